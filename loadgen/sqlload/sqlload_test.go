package sqlload

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

func openPool(t *testing.T, max int) *pgpool.Pool {
	t.Helper()
	cfg := pgpool.Config{PoolConfig: pgpool.DefaultPoolConfig(), DatabaseURL: pgtest.NewDatabase(t)}
	cfg.Max, cfg.Min = max, 1
	pool, err := pgpool.Open(context.Background(), cfg, pgpool.Options{Window: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestSelect1ThroughThePool(t *testing.T) {
	pool := openPool(t, 4)
	// The engine leaves no goroutine behind. The pool stays open, and a
	// connection it opened during the run may still be reading in the
	// background (pgx's bgreader): the pool's, not the engine's.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreAnyFunction("github.com/jackc/pgx/v5/internal/bgreader.(*BGReader).bgRead"))
	tg := NewQueryTarget(pool, Select1)
	if err := tg.Preflight(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, _ := loadgen.Constant(200)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Schedule: s, Duration: time.Second}, tg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 200 || rep.Errors != 0 {
		t.Errorf("requests %d errors %d %v; want 200 and none", rep.Requests, rep.Errors, rep.ErrorSamples)
	}
	if rep.Pool == nil || rep.Pool.UtilizationMax < 0 || rep.Pool.UtilizationMax > 1 {
		t.Fatalf("pool report %+v", rep.Pool)
	}
	if len(rep.Series) == 0 || rep.Series[0].PoolUtilization == nil {
		t.Errorf("the series does not carry the pool samples: %+v", rep.Series)
	}
}

func TestSaturatedPoolShowsWait(t *testing.T) {
	pool := openPool(t, 2)
	tg := NewQueryTarget(pool, "select pg_sleep(0.02)")
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Concurrency: 8, Duration: 1500 * time.Millisecond}, tg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 || rep.Pool == nil {
		t.Fatalf("errors %d %v, pool %+v", rep.Errors, rep.ErrorSamples, rep.Pool)
	}
	t.Logf("8 workers on a pool of 2: %d requests, latency %+v, pool %+v", rep.Requests, rep.LatencyMS, *rep.Pool)
	if rep.Pool.UtilizationMax < 0.99 || rep.Pool.WaitP95MS < 10 {
		t.Errorf("pool %+v: 8 workers on 2 connections must show full utilization and a wait", *rep.Pool)
	}
}

func TestPreflightRefusesBadQuery(t *testing.T) {
	pool := openPool(t, 2)
	if err := NewQueryTarget(pool, "selec 1").Preflight(context.Background()); err == nil {
		t.Error("a query with a syntax error passed the preflight")
	}
}

func TestLedgerOverSQLHasNoViolations(t *testing.T) {
	pool := openPool(t, 8)
	tg, err := NewLedgerTarget(context.Background(), pool, loadgen.LedgerOptions{Tenants: 10, Accounts: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := loadgen.Constant(200)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Schedule: s, Duration: time.Second}, tg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Violations != 0 || rep.Errors != 0 || rep.Ops["post"] == 0 || rep.Pool == nil {
		t.Fatalf("violations %d %v errors %d %v ops %v", rep.Violations, rep.ViolationSamples, rep.Errors, rep.ErrorSamples, rep.Ops)
	}
	ir, err := ledger.NewStore(pool).CheckIntegrity(context.Background())
	if err != nil || !ir.OK {
		t.Errorf("integrity after the run: %+v, %v", ir, err)
	}
}

// TestLedgerOverHTTPAgainstLedgerd drives the real ledgerd (in-process, on
// PostgreSQL) with the HTTP ledger workload.
func TestLedgerOverHTTPAgainstLedgerd(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{})
	client := loadgen.NewHTTPClient(100)
	defer client.CloseIdleConnections()
	api, err := loadgen.NewLedgerHTTP(ld.URL, client)
	if err != nil {
		t.Fatal(err)
	}
	w, err := loadgen.NewLedgerWorkload(api, loadgen.LedgerOptions{Tenants: 10, Accounts: 4, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Preflight(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, _ := loadgen.Constant(200)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Schedule: s, Duration: time.Second}, w)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Violations != 0 || rep.Errors != 0 || rep.Requests != 200 {
		t.Fatalf("requests %d violations %d %v errors %d %v", rep.Requests, rep.Violations, rep.ViolationSamples, rep.Errors, rep.ErrorSamples)
	}
	for _, op := range []string{"post", "balance", "trial_balance", "isolation"} {
		if rep.Ops[op] == 0 {
			t.Errorf("op %s never ran: %v", op, rep.Ops)
		}
	}
}
