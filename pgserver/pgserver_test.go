package pgserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/plan/plantest"
	"github.com/poolpilot/poolpilot/preflight"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

func openPool(t *testing.T, url string) *pgpool.Pool {
	t.Helper()
	cfg := pgpool.Config{DatabaseURL: url}
	cfg.Max, cfg.Min = 2, 0
	cfg.IdleTimeout, cfg.ConnectTimeout = 30*time.Second, 2*time.Second
	cfg.MaxLifetime, cfg.HealthCheckPeriod = time.Hour, time.Minute
	p, err := pgpool.Open(context.Background(), cfg, pgpool.Options{AppName: "poolpilot-preflight-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// healthStub serves a /healthz document as an instance at from-size would.
func healthStub(t *testing.T, max, min, total int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(poolpilot.Health{Status: "ok", Pool: poolpilot.PoolStats{Max: max, Min: min, Total: total},
			Requests: &poolpilot.RequestStats{Total: 100, ErrorRate: 0, LatencyP95MS: 3}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSeedPlanRefusedOnDefaultServer(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{Settings: map[string]string{"max_connections": "100"}})
	pool := openPool(t, srv.URL("postgres"))
	facts := Facts{Pool: pool}
	l, err := facts.Limits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if l.MaxConnections != 100 || l.SuperuserReserved != 3 || l.OtherConnections < 0 {
		t.Fatalf("limits %+v", l)
	}
	inst := healthStub(t, 10, 2, 2)
	o := plan.SeedInitOptions()
	o.HealthURLs = []string{inst.URL + "/healthz"}
	p, _ := plantest.Init(t, o)
	p.Backup.Check, p.Backup.SkipReason = "skip", "test cluster"
	env := map[string]string{"DATABASE_URL": srv.URL("postgres"), "POOLPILOT_ADMIN_TOKEN": "t"}
	pf := &preflight.Checker{Plan: p, PlanDir: t.TempDir(), Server: facts, Prober: change.HTTPProber{},
		Getenv: func(k string) string { return env[k] }, Clock: poolpilot.SystemClock{}}
	rep := pf.Run(context.Background())
	if rep.OK {
		t.Fatal("the seed's max 200 passed preflight against max_connections 100")
	}
	var budget *preflight.Check
	for i := range rep.Checks {
		if rep.Checks[i].ID == "connection_budget" {
			budget = &rep.Checks[i]
		}
	}
	if budget == nil || budget.Status != preflight.CheckFail {
		t.Fatalf("budget check %+v", budget)
	}
	for _, want := range []string{"max 200", "max_connections 100", "superuser_reserved 3", "= 97"} {
		if !strings.Contains(budget.Detail, want) {
			t.Errorf("budget detail %q lacks %q", budget.Detail, want)
		}
	}
	// The other machine checks pass: the refusal is the budget's alone
	// (and the manual checklist, not ticked here).
	for _, c := range rep.Checks {
		if c.Status == preflight.CheckFail && c.ID != "connection_budget" && c.ID != "manual_checklist" {
			t.Errorf("unexpected failure %s: %s", c.ID, c.Detail)
		}
	}
}

func TestBudgetPassesWithRoom(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{Settings: map[string]string{"max_connections": "300"}})
	facts := Facts{Pool: openPool(t, srv.URL("postgres"))}
	l, err := facts.Limits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := preflight.ComputeBudget(1, 0, 200, 1, l)
	if b.Needed > b.Available {
		t.Fatalf("budget %s", b)
	}
	last, err := facts.LastArchived(context.Background())
	if err != nil || !last.IsZero() {
		t.Errorf("archiver on a fresh cluster: %v %v", last, err)
	}
}
