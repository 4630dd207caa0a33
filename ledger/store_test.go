package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMigrateIdempotentAndConcurrent(t *testing.T) {
	store, _ := newStore(t) // migrated once already
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- store.Migrate(ctx) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	if v, err := store.SchemaVersion(ctx); err != nil || v != 1 {
		t.Fatalf("schema version %d, %v; want 1", v, err)
	}
}

func TestMigrateConcurrentOnEmptyDatabase(t *testing.T) {
	_, pool := newStore(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "DROP SCHEMA ledger CASCADE"); err != nil {
		t.Fatal(err)
	}
	store := ledger.NewStore(pool)
	if v, err := store.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("schema version before migrate %d, %v; want 0", v, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() { errs <- store.Migrate(ctx) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent first migrate: %v", err)
		}
	}
	if _, err := store.PostEntry(ctx, "t1", sale(5)); err != nil {
		t.Fatalf("post after migrate: %v", err)
	}
}

func TestPostThenBalanceAndTrialBalance(t *testing.T) {
	store, _ := newStore(t)
	ctx := context.Background()
	for _, amt := range []int64{1000, 250, 1} {
		e, err := store.PostEntry(ctx, "t1", sale(amt))
		if err != nil {
			t.Fatalf("post %d: %v", amt, err)
		}
		if e.ID == 0 || e.Tenant != "t1" || e.CreatedAt.IsZero() || len(e.Lines) != 2 {
			t.Fatalf("posted entry %+v", e)
		}
	}
	b, err := store.Balance(ctx, "t1", "cash")
	if err != nil || b.Balance != 1251 || b.Entries != 3 {
		t.Fatalf("cash balance %+v, %v; want 1251 over 3 entries", b, err)
	}
	b, err = store.Balance(ctx, "t1", "revenue")
	if err != nil || b.Balance != -1251 {
		t.Fatalf("revenue balance %+v, %v", b, err)
	}
	tb, err := store.TrialBalance(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]ledger.AccountBalance{{Account: "cash", Balance: 1251}, {Account: "revenue", Balance: -1251}})
	if fmt.Sprint(tb.Accounts) != want || tb.Total != 0 {
		t.Fatalf("trial balance %+v, want %s total 0", tb, want)
	}
}

func TestSameAccountTwiceInOneEntry(t *testing.T) {
	store, _ := newStore(t)
	ctx := context.Background()
	e := ledger.Entry{Lines: []ledger.Line{{"cash", 10}, {"cash", 5}, {"sales", -15}}}
	if _, err := store.PostEntry(ctx, "t1", e); err != nil {
		t.Fatal(err)
	}
	b, err := store.Balance(ctx, "t1", "cash")
	if err != nil || b.Balance != 15 || b.Entries != 1 {
		t.Fatalf("balance %+v, %v; want 15 over 1 entry", b, err)
	}
}

func TestTenantIsolation(t *testing.T) {
	store, _ := newStore(t)
	ctx := context.Background()
	if _, err := store.PostEntry(ctx, "alpha", sale(700)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Balance(ctx, "beta", "cash"); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("beta sees alpha's cash: err %v", err)
	}
	if _, err := store.PostEntry(ctx, "beta", sale(3)); err != nil {
		t.Fatal(err)
	}
	a, _ := store.Balance(ctx, "alpha", "cash")
	b, _ := store.Balance(ctx, "beta", "cash")
	if a.Balance != 700 || b.Balance != 3 || a.Entries != 1 || b.Entries != 1 {
		t.Fatalf("same-named accounts mixed: alpha %+v beta %+v", a, b)
	}
	tb, err := store.TrialBalance(ctx, "gamma")
	if err != nil || len(tb.Accounts) != 0 || tb.Total != 0 {
		t.Fatalf("unknown tenant trial balance %+v, %v; want empty", tb, err)
	}
}

func TestPostEntryRejectsInvalidAndWritesNothing(t *testing.T) {
	store, pool := newStore(t)
	ctx := context.Background()
	bad := ledger.Entry{Lines: []ledger.Line{{"cash", 10}, {"revenue", -5}}}
	_, err := store.PostEntry(ctx, "t1", bad)
	var ve *ledger.ValidationError
	if !errors.As(err, &ve) || !ve.Unprocessable || ve.Msg != "entry does not balance: lines sum to 5" {
		t.Fatalf("unbalanced: err %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM ledger.entries) + (SELECT count(*) FROM ledger.tenants)").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after a rejected entry: %d, %v", n, err)
	}
}

// TestConcurrentPostsKeepIntegrity posts from many goroutines into a few
// tenants whose accounts are created concurrently, then checks every
// balance and the integrity report.
func TestConcurrentPostsKeepIntegrity(t *testing.T) {
	store, _ := newStore(t)
	ctx := context.Background()
	const workers, perWorker = 12, 20
	tenants := []string{"t0", "t1", "t2"}
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				tenant := tenants[(w+i)%len(tenants)]
				e := ledger.Entry{Description: "sale", Lines: []ledger.Line{
					{Account: fmt.Sprintf("acct-%d", i%4), Amount: 10},
					{Account: fmt.Sprintf("acct-%d", (i+1)%4), Amount: -10},
					{Account: "cash", Amount: 1}, {Account: "fees", Amount: -1}}}
				if _, err := store.PostEntry(ctx, tenant, e); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent post: %v", err)
	}
	var entries int64
	for _, tn := range tenants {
		b, err := store.Balance(ctx, tn, "cash")
		if err != nil {
			t.Fatal(err)
		}
		entries += b.Entries
		if b.Balance != b.Entries {
			t.Errorf("%s cash balance %d over %d entries, want equal", tn, b.Balance, b.Entries)
		}
	}
	rep, err := store.CheckIntegrity(ctx)
	if err != nil || !rep.OK || rep.CheckedEntries != workers*perWorker || entries != workers*perWorker || rep.CheckedTenants != 3 {
		t.Fatalf("integrity %+v, %v; cash entries %d; want ok over %d entries", rep, err, entries, workers*perWorker)
	}
}

// TestSmallPoolManyWorkers posts from 16 goroutines through a pool of 2
// for a bounded time: every post must succeed (waiting for a connection is
// fine, losing one to another request is not) and the ledger stays intact.
// It caught transaction handles being used after they ended.
func TestSmallPoolManyWorkers(t *testing.T) {
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "DB_POOL_MAX": "2", "DB_POOL_MIN": "1", "DB_POOL_CONNECTION_TIMEOUT": "10s"}
	cfg, err := pgpool.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pool, err := pgpool.Open(ctx, cfg, pgpool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store := ledger.NewStore(pool)
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var posts, failed atomic.Int64
	end := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; time.Now().Before(end); i++ {
				posts.Add(1)
				if _, err := store.PostEntry(ctx, fmt.Sprintf("t%d", w%4), sale(int64(i+1))); err != nil && failed.Add(1) <= 3 {
					t.Errorf("post: %v", err)
				}
			}
		})
	}
	wg.Wait()
	rep, err := store.CheckIntegrity(ctx)
	if failed.Load() != 0 || err != nil || !rep.OK || rep.CheckedEntries != posts.Load() {
		t.Fatalf("%d of %d posts failed; integrity %+v, %v", failed.Load(), posts.Load(), rep, err)
	}
}

// corrupt runs sql with the foreign keys and triggers off
// (session_replication_role = replica), as a bad restore or manual surgery
// would.
func corrupt(t *testing.T, pool *pgpool.Pool, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SET LOCAL session_replication_role = replica", sql} {
		a := args
		if q != sql {
			a = nil
		}
		if _, err := tx.Exec(ctx, q, a...); err != nil {
			tx.Rollback(ctx)
			t.Fatalf("corrupt %q: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
