package ledger

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/poolpilot/poolpilot/pgpool"
)

// Store is the ledger's SQL side. Every query names the tenant in its WHERE
// or JOIN clauses, so no call can read or write another tenant's rows.
type Store struct {
	pool *pgpool.Pool
}

// NewStore returns a Store over pool. Call Migrate before using it.
func NewStore(pool *pgpool.Pool) *Store { return &Store{pool: pool} }

var errNoRows = pgpool.ErrNoRows

// PostEntry validates e and records it for tenant in one transaction,
// creating the tenant and its accounts on first use. It returns the stored
// entry with its id and creation time. Invalid entries return a
// *ValidationError and change nothing.
func (s *Store) PostEntry(ctx context.Context, tenant string, e Entry) (Entry, error) {
	if err := Validate(tenant, e); err != nil {
		return Entry{}, err
	}
	out := Entry{Tenant: tenant, Description: e.Description, Lines: append([]Line(nil), e.Lines...)}
	err := s.inTx(ctx, pgpool.TxOptions{}, func(tx pgpool.Tx) error {
		tenantID, err := getOrCreateTenant(ctx, tx, tenant)
		if err != nil {
			return err
		}
		ids, err := getOrCreateAccounts(ctx, tx, tenantID, e.Lines)
		if err != nil {
			return err
		}
		accounts := make([]int64, len(e.Lines))
		amounts := make([]int64, len(e.Lines))
		for i, l := range e.Lines {
			accounts[i], amounts[i] = ids[l.Account], l.Amount
		}
		return wrap("insert", tx.QueryRow(ctx, insertEntrySQL, tenantID, e.Description, accounts, amounts).Scan(&out.ID, &out.CreatedAt))
	})
	if err != nil {
		return Entry{}, fmt.Errorf("post entry: %w", err)
	}
	out.CreatedAt = out.CreatedAt.UTC()
	return out, nil
}

const insertEntrySQL = `WITH e AS (
    INSERT INTO ledger.entries (tenant_id, description) VALUES ($1, $2) RETURNING id, created_at
), l AS (
    INSERT INTO ledger.entry_lines (entry_id, line_no, tenant_id, account_id, amount)
    SELECT e.id, t.ord, $1, t.account_id, t.amount
    FROM e, unnest($3::bigint[], $4::bigint[]) WITH ORDINALITY AS t (account_id, amount, ord)
)
SELECT id, created_at FROM e`

// inTx runs fn in a transaction and then calls exactly one of Commit (fn
// returned nil) or Rollback, never both: a transaction handle must not be
// touched after it ended (the pool may already have handed its connection
// to someone else).
func (s *Store) inTx(ctx context.Context, opts pgpool.TxOptions, fn func(pgpool.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx)) // the error that matters is fn's
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// getOrCreateTenant returns the id of tenant, inserting it when missing. A
// concurrent insert of the same tenant makes ON CONFLICT DO NOTHING return no
// row; the next SELECT (a new snapshot under READ COMMITTED) then sees it.
func getOrCreateTenant(ctx context.Context, tx pgpool.Tx, tenant string) (int64, error) {
	var id int64
	for range 3 {
		err := tx.QueryRow(ctx, "SELECT id FROM ledger.tenants WHERE name = $1", tenant).Scan(&id)
		if !errors.Is(err, errNoRows) {
			return id, wrap("tenant", err)
		}
		err = tx.QueryRow(ctx, "INSERT INTO ledger.tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id", tenant).Scan(&id)
		if !errors.Is(err, errNoRows) {
			return id, wrap("create tenant", err)
		}
	}
	return 0, fmt.Errorf("tenant %q: could not read or create it", tenant)
}

// getOrCreateAccounts maps the accounts named in lines to their ids for
// tenantID, creating the missing ones in name order (a fixed order, so two
// transactions creating the same accounts cannot deadlock).
func getOrCreateAccounts(ctx context.Context, tx pgpool.Tx, tenantID int64, lines []Line) (map[string]int64, error) {
	ids := make(map[string]int64, len(lines))
	var names []string
	for _, l := range lines {
		if _, ok := ids[l.Account]; !ok {
			ids[l.Account] = 0
			names = append(names, l.Account)
		}
	}
	sort.Strings(names)
	const sel = "SELECT name, id FROM ledger.accounts WHERE tenant_id = $1 AND name = ANY($2::text[])"
	const ins = `INSERT INTO ledger.accounts (tenant_id, name)
SELECT $1, n FROM unnest($2::text[]) AS n ORDER BY n
ON CONFLICT (tenant_id, name) DO NOTHING RETURNING name, id`
	for range 3 {
		for _, q := range []string{sel, ins} {
			if err := scanNameIDs(ctx, tx, q, tenantID, names, ids); err != nil {
				return nil, fmt.Errorf("accounts: %w", err)
			}
			names = missing(names, ids)
			if len(names) == 0 {
				return ids, nil
			}
		}
	}
	return nil, fmt.Errorf("accounts %v: could not read or create them", names)
}

func scanNameIDs(ctx context.Context, tx pgpool.Tx, q string, tenantID int64, names []string, ids map[string]int64) error {
	rows, err := tx.Query(ctx, q, tenantID, names)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var id int64
		if err := rows.Scan(&name, &id); err != nil {
			return err
		}
		ids[name] = id
	}
	return rows.Err()
}

func missing(names []string, ids map[string]int64) []string {
	var out []string
	for _, n := range names {
		if ids[n] == 0 {
			out = append(out, n)
		}
	}
	return out
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Balance returns the balance of one account of tenant, or ErrNotFound when
// the tenant has no such account (another tenant's account of the same name
// is not visible).
func (s *Store) Balance(ctx context.Context, tenant, account string) (Balance, error) {
	if err := checkID("tenant", tenant); err != nil {
		return Balance{}, err
	}
	if err := checkID("account", account); err != nil {
		return Balance{}, err
	}
	b := Balance{Tenant: tenant, Account: account}
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(sum(l.amount), 0)::bigint, count(DISTINCT l.entry_id)
FROM ledger.tenants t
JOIN ledger.accounts a ON a.tenant_id = t.id AND a.name = $2
LEFT JOIN ledger.entry_lines l ON l.tenant_id = a.tenant_id AND l.account_id = a.id
WHERE t.name = $1
GROUP BY a.id`, tenant, account).Scan(&b.Balance, &b.Entries)
	if errors.Is(err, errNoRows) {
		return Balance{}, ErrNotFound
	}
	if err != nil {
		return Balance{}, fmt.Errorf("balance: %w", err)
	}
	return b, nil
}

// TrialBalance returns every account of tenant with its balance, ordered by
// name. A tenant that never posted has an empty trial balance.
func (s *Store) TrialBalance(ctx context.Context, tenant string) (TrialBalance, error) {
	if err := checkID("tenant", tenant); err != nil {
		return TrialBalance{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT a.name, COALESCE(sum(l.amount), 0)::bigint
FROM ledger.tenants t
JOIN ledger.accounts a ON a.tenant_id = t.id
LEFT JOIN ledger.entry_lines l ON l.tenant_id = a.tenant_id AND l.account_id = a.id
WHERE t.name = $1
GROUP BY a.name
ORDER BY a.name`, tenant)
	if err != nil {
		return TrialBalance{}, fmt.Errorf("trial balance: %w", err)
	}
	defer rows.Close()
	tb := TrialBalance{Tenant: tenant, Accounts: []AccountBalance{}}
	for rows.Next() {
		var ab AccountBalance
		if err := rows.Scan(&ab.Account, &ab.Balance); err != nil {
			return TrialBalance{}, fmt.Errorf("trial balance: %w", err)
		}
		tb.Accounts = append(tb.Accounts, ab)
		tb.Total += ab.Balance
	}
	if err := rows.Err(); err != nil {
		return TrialBalance{}, fmt.Errorf("trial balance: %w", err)
	}
	return tb, nil
}
