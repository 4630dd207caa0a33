package sqlload

import (
	"context"
	"errors"
	"fmt"

	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/pgpool"
)

// Select1 is the query of the select1 workload.
const Select1 = "select 1"

// poolSampler reads a pool's statistics for the engine's per-second series.
type poolSampler struct{ pool *pgpool.Pool }

// PoolSample returns the pool's acquire-wait p95 and utilization.
func (p poolSampler) PoolSample() loadgen.PoolSample {
	st := p.pool.Stats()
	return loadgen.PoolSample{WaitP95MS: st.WaitP95MS, Utilization: st.Utilization}
}

// QueryTarget runs one SQL statement per request. It uses Exec, which
// reads every row the statement returns and discards it.
type QueryTarget struct {
	poolSampler
	query string
}

// NewQueryTarget returns a target running query through pool.
func NewQueryTarget(pool *pgpool.Pool, query string) *QueryTarget {
	return &QueryTarget{poolSampler: poolSampler{pool}, query: query}
}

// Do runs the query once.
func (t *QueryTarget) Do(ctx context.Context) (loadgen.Result, error) {
	_, err := t.pool.Exec(ctx, t.query)
	return loadgen.Result{}, kinded(err)
}

// Preflight pings the server and runs the query once, so that an
// unreachable server or a query that does not parse is refused before the
// run.
func (t *QueryTarget) Preflight(ctx context.Context) error {
	if err := t.pool.Ping(ctx); err != nil {
		return fmt.Errorf("cannot reach the database: %w", err)
	}
	if _, err := t.Do(ctx); err != nil {
		return fmt.Errorf("query %q fails: %w", t.query, err)
	}
	return nil
}

// sqlError gives an error its SQLSTATE as kind ("sqlstate_53300").
type sqlError struct{ err error }

func (e *sqlError) Error() string { return e.err.Error() }
func (e *sqlError) Unwrap() error { return e.err }
func (e *sqlError) Kind() string {
	var pe *pgpool.PgError
	if errors.As(e.err, &pe) {
		return "sqlstate_" + pe.Code
	}
	if errors.Is(e.err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "sql"
}

func kinded(err error) error {
	if err == nil {
		return nil
	}
	return &sqlError{err}
}

// LedgerStore adapts ledger.Store to the workload's Ledger interface.
type LedgerStore struct{ Store *ledger.Store }

// PostEntry posts a journal entry.
func (l LedgerStore) PostEntry(ctx context.Context, tenant, description string, lines []loadgen.LedgerLine) error {
	ls := make([]ledger.Line, len(lines))
	for i, x := range lines {
		ls[i] = ledger.Line{Account: x.Account, Amount: x.Amount}
	}
	_, err := l.Store.PostEntry(ctx, tenant, ledger.Entry{Description: description, Lines: ls})
	return kinded(err)
}

// Balance reads an account's balance.
func (l LedgerStore) Balance(ctx context.Context, tenant, account string) (loadgen.LedgerBalance, error) {
	b, err := l.Store.Balance(ctx, tenant, account)
	if errors.Is(err, ledger.ErrNotFound) {
		return loadgen.LedgerBalance{}, loadgen.ErrLedgerNotFound
	}
	if err != nil {
		return loadgen.LedgerBalance{}, kinded(err)
	}
	return loadgen.LedgerBalance{Tenant: b.Tenant, Account: b.Account, Balance: b.Balance, Entries: b.Entries}, nil
}

// TrialBalance reads a tenant's trial balance.
func (l LedgerStore) TrialBalance(ctx context.Context, tenant string) (loadgen.LedgerTrialBalance, error) {
	tb, err := l.Store.TrialBalance(ctx, tenant)
	if err != nil {
		return loadgen.LedgerTrialBalance{}, kinded(err)
	}
	out := loadgen.LedgerTrialBalance{Tenant: tb.Tenant, Total: tb.Total}
	for _, ab := range tb.Accounts {
		out.Accounts = append(out.Accounts, struct {
			Account string `json:"account"`
			Balance int64  `json:"balance"`
		}{ab.Account, ab.Balance})
	}
	return out, nil
}

// LedgerTarget is the ledger workload over SQL through the pool.
type LedgerTarget struct {
	poolSampler
	*loadgen.LedgerWorkload
}

// NewLedgerTarget migrates the ledger schema (idempotent) and returns the
// ledger workload against it.
func NewLedgerTarget(ctx context.Context, pool *pgpool.Pool, opts loadgen.LedgerOptions) (*LedgerTarget, error) {
	store := ledger.NewStore(pool)
	if err := store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate the ledger schema: %w", err)
	}
	w, err := loadgen.NewLedgerWorkload(LedgerStore{store}, opts)
	if err != nil {
		return nil, err
	}
	return &LedgerTarget{poolSampler: poolSampler{pool}, LedgerWorkload: w}, nil
}
