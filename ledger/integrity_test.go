package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/pgpool"
)

// seedTwoTenants posts one sale to alpha and one to beta and returns them.
func seedTwoTenants(t *testing.T, store *ledger.Store) (alpha, beta ledger.Entry) {
	t.Helper()
	ctx := context.Background()
	alpha, err := store.PostEntry(ctx, "alpha", sale(100))
	if err != nil {
		t.Fatal(err)
	}
	beta, err = store.PostEntry(ctx, "beta", sale(40))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := store.CheckIntegrity(ctx); err != nil || !rep.OK || rep.CheckedEntries != 2 || rep.CheckedTenants != 2 {
		t.Fatalf("healthy ledger: %+v, %v", rep, err)
	}
	return alpha, beta
}

func lineID(t *testing.T, pool *pgpool.Pool, entry int64, lineNo int) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), "SELECT id FROM ledger.entry_lines WHERE entry_id = $1 AND line_no = $2", entry, lineNo).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestIntegrityDetectsUnbalancedEntry(t *testing.T) {
	store, pool := newStore(t)
	alpha, _ := seedTwoTenants(t, store)
	// A calculation error: one line's amount changed after the fact.
	corrupt(t, pool, "UPDATE ledger.entry_lines SET amount = amount + 5 WHERE id = $1", lineID(t, pool, alpha.ID, 1))
	rep, err := store.CheckIntegrity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("false [%d] [{alpha 5}] []", alpha.ID)
	if got := fmt.Sprint(rep.OK, rep.UnbalancedEntries, rep.TenantImbalances, rep.CrossTenantLines); got != want {
		t.Fatalf("report %s, want %s", got, want)
	}
}

func TestIntegrityDetectsEntryWithOneLine(t *testing.T) {
	store, pool := newStore(t)
	_, beta := seedTwoTenants(t, store)
	corrupt(t, pool, "DELETE FROM ledger.entry_lines WHERE entry_id = $1 AND line_no = 2", beta.ID)
	rep, err := store.CheckIntegrity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("false [%d] [{beta 40}] []", beta.ID)
	if got := fmt.Sprint(rep.OK, rep.UnbalancedEntries, rep.TenantImbalances, rep.CrossTenantLines); got != want {
		t.Fatalf("report %s, want %s", got, want)
	}
}

func TestIntegrityDetectsCrossTenantLine(t *testing.T) {
	store, pool := newStore(t)
	alpha, _ := seedTwoTenants(t, store)
	ctx := context.Background()
	line := lineID(t, pool, alpha.ID, 1) // alpha's cash +100
	const toBetaCash = `UPDATE ledger.entry_lines SET account_id =
    (SELECT a.id FROM ledger.accounts a JOIN ledger.tenants t ON t.id = a.tenant_id WHERE t.name = 'beta' AND a.name = 'cash')
WHERE id = $1`
	// The schema forbids it while the foreign keys are in force.
	_, err := pool.Exec(ctx, toBetaCash, line)
	var pgErr *pgpool.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23503" {
		t.Fatalf("cross-tenant update with constraints on: err %v, want foreign key violation 23503", err)
	}
	corrupt(t, pool, toBetaCash, line)
	rep, err := store.CheckIntegrity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// alpha's entry still sums to zero, but one of its lines now sits in
	// beta's account: alpha's trial balance misses +100.
	want := fmt.Sprintf("false [] [{alpha -100}] [%d]", line)
	if got := fmt.Sprint(rep.OK, rep.UnbalancedEntries, rep.TenantImbalances, rep.CrossTenantLines); got != want {
		t.Fatalf("report %s, want %s", got, want)
	}
	// And beta's API does not show alpha's line.
	if b, err := store.Balance(ctx, "beta", "cash"); err != nil || b.Balance != 40 || b.Entries != 1 {
		t.Fatalf("beta cash %+v, %v; want 40 over 1 entry", b, err)
	}
}

func TestIntegrityDetectsLineMovedToAnotherTenantsEntry(t *testing.T) {
	store, pool := newStore(t)
	alpha, beta := seedTwoTenants(t, store)
	line := lineID(t, pool, beta.ID, 2) // beta's revenue -40
	corrupt(t, pool, "UPDATE ledger.entry_lines SET entry_id = $1, line_no = 3 WHERE id = $2", alpha.ID, line)
	rep, err := store.CheckIntegrity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.CrossTenantLines) != 1 || rep.CrossTenantLines[0] != line ||
		fmt.Sprint(rep.UnbalancedEntries) != fmt.Sprint([]int64{alpha.ID, beta.ID}) {
		t.Fatalf("report %+v; want line %d cross-tenant and entries %d, %d unbalanced", rep, line, alpha.ID, beta.ID)
	}
}
