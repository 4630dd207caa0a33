package ledger

import (
	"context"
	"fmt"

	"github.com/poolpilot/poolpilot/pgpool"
)

// The integrity queries. They deliberately do not rely on the schema's
// constraints: they find rows that could only exist with the constraints
// bypassed.
const (
	countEntriesSQL = "SELECT count(*) FROM ledger.entries"
	countTenantsSQL = "SELECT count(*) FROM ledger.tenants"

	// Entries whose lines do not sum to zero, or with fewer than two lines.
	unbalancedSQL = `SELECT e.id
FROM ledger.entries e
LEFT JOIN ledger.entry_lines l ON l.entry_id = e.id
GROUP BY e.id
HAVING COALESCE(sum(l.amount), 0) <> 0 OR count(l.id) < 2
ORDER BY e.id
LIMIT $1`

	// Tenants whose trial balance (as TrialBalance computes it) is not zero.
	imbalanceSQL = `SELECT t.name, sum(l.amount)::bigint
FROM ledger.tenants t
JOIN ledger.accounts a ON a.tenant_id = t.id
JOIN ledger.entry_lines l ON l.tenant_id = a.tenant_id AND l.account_id = a.id
GROUP BY t.name
HAVING sum(l.amount) <> 0
ORDER BY t.name
LIMIT $1`

	// Lines whose entry or account belongs to another tenant, or is missing.
	crossTenantSQL = `SELECT l.id
FROM ledger.entry_lines l
LEFT JOIN ledger.entries e ON e.id = l.entry_id
LEFT JOIN ledger.accounts a ON a.id = l.account_id
WHERE e.id IS NULL OR a.id IS NULL
   OR e.tenant_id <> l.tenant_id OR a.tenant_id <> l.tenant_id
ORDER BY l.id
LIMIT $1`
)

// CheckIntegrity verifies the whole ledger in one consistent snapshot
// (REPEATABLE READ, read only): every entry balances, every tenant's trial
// balance sums to zero, and no line touches another tenant's entry or
// account. The error is for failures to check; violations are in the report.
func (s *Store) CheckIntegrity(ctx context.Context) (IntegrityReport, error) {
	var r IntegrityReport
	ro := pgpool.TxOptions{IsoLevel: "repeatable read", AccessMode: "read only"}
	err := s.inTx(ctx, ro, func(tx pgpool.Tx) error {
		var err error
		if err := tx.QueryRow(ctx, countEntriesSQL).Scan(&r.CheckedEntries); err != nil {
			return fmt.Errorf("count entries: %w", err)
		}
		if err := tx.QueryRow(ctx, countTenantsSQL).Scan(&r.CheckedTenants); err != nil {
			return fmt.Errorf("count tenants: %w", err)
		}
		if r.UnbalancedEntries, err = queryIDs(ctx, tx, unbalancedSQL); err != nil {
			return fmt.Errorf("unbalanced entries: %w", err)
		}
		if r.CrossTenantLines, err = queryIDs(ctx, tx, crossTenantSQL); err != nil {
			return fmt.Errorf("cross-tenant lines: %w", err)
		}
		r.TenantImbalances, err = tenantImbalances(ctx, tx)
		return err
	})
	if err != nil {
		return IntegrityReport{}, fmt.Errorf("integrity: %w", err)
	}
	r.OK = len(r.UnbalancedEntries) == 0 && len(r.TenantImbalances) == 0 && len(r.CrossTenantLines) == 0
	return r, nil
}

func tenantImbalances(ctx context.Context, tx pgpool.Tx) ([]TenantImbalance, error) {
	rows, err := tx.Query(ctx, imbalanceSQL, MaxReported)
	if err != nil {
		return nil, fmt.Errorf("tenant totals: %w", err)
	}
	defer rows.Close()
	var out []TenantImbalance
	for rows.Next() {
		var ti TenantImbalance
		if err := rows.Scan(&ti.Tenant, &ti.Total); err != nil {
			return nil, fmt.Errorf("tenant totals: %w", err)
		}
		out = append(out, ti)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tenant totals: %w", err)
	}
	return out, nil
}

func queryIDs(ctx context.Context, tx pgpool.Tx, q string) ([]int64, error) {
	rows, err := tx.Query(ctx, q, MaxReported)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
