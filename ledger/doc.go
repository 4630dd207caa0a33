// Package ledger is ledgerd's domain: a small multi-tenant double-entry
// ledger, the seed's accounting service in miniature and the system under
// change in poolpilot's demo, benchmarks and end-to-end tests.
//
// Tenants and accounts are named by identifiers matching [a-z0-9_-]{1,64};
// both are created on first use. A journal entry has at least two lines whose
// amounts (int64 minor units, positive = debit, negative = credit, never zero)
// sum to zero. Store is the SQL side over a *pgpool.Pool (schema "ledger",
// migrations embedded and applied by Migrate under an advisory lock);
// Handler serves the /v1 HTTP API; Faults injects errors and latency into it
// for drills. CheckIntegrity makes the seed's P0 classes "data integrity
// issue", "calculation error" and "tenant isolation violation" checkable.
//
// The schema itself forbids cross-tenant lines (composite foreign keys on
// (tenant_id, entry_id) and (tenant_id, account_id)); CheckIntegrity still
// looks for them, because rows can be corrupted with the constraints
// bypassed (session_replication_role = replica, a bad restore, manual
// surgery) and the check must not trust what it verifies.
package ledger
