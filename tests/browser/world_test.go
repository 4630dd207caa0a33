package browsertest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/dashboard"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/plan/plantest"
	"github.com/poolpilot/poolpilot/runner"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

const (
	adminToken = "e2e-admin-token-5b1f0c"
	dashToken  = "e2e-dashboard-token-8c2d71"
)

// world is a real run in progress with its dashboard.
type world struct {
	srv    *httptest.Server
	hub    *dashboard.Hub
	live   *dashboard.Live
	done   chan runner.Result
	dbURL  string
	runErr error
}

// compressedPlan is the seed's plan at 10:2 → 40:4 (the shared test
// cluster has max_connections 400) with time compressed: baseline 4s, load
// test 3s, a soak long enough to roll back by hand, trigger windows 3s.
// The baseline is 4s so that the page sees it.
func compressedPlan(t *testing.T, urls []string, dir string) (*plan.Plan, []byte) {
	t.Helper()
	o := plan.SeedInitOptions()
	o.Name, o.HealthURLs, o.EvidenceDir = "phase1_browser", urls, dir
	o.To = plan.PoolSize{Max: 40, Min: 4}
	o.LoadRate, o.LoadDuration, o.Soak, o.Baseline, o.TriggerFor = 30, 3*time.Second, 90*time.Second, 4*time.Second, 3*time.Second
	p, _ := plantest.Init(t, o)
	for i := range p.Criteria {
		if c := &p.Criteria[i]; c.Role == poolpilot.RoleSuccess {
			c.For = poolpilot.Duration(4 * time.Second)
		}
	}
	p.Backup = plan.Backup{Check: "skip", SkipReason: "ephemeral test database", MaxAge: p.Backup.MaxAge}
	p.Soak.Rate = 20
	p.Rollout.VerifyTimeout = poolpilot.Duration(15 * time.Second)
	out := p.YAML()
	p, err := plan.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	return p, out
}

// startWorld starts PostgreSQL, two ledgerd at 10:2, the dashboard and
// the run (in the background).
func startWorld(t *testing.T) *world {
	t.Helper()
	w := &world{done: make(chan runner.Result, 1), dbURL: pgtest.NewDatabase(t)}
	var urls []string
	for i := 0; i < 2; i++ {
		ld := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: w.dbURL, AdminToken: adminToken, Window: 3 * time.Second,
			Env: map[string]string{"DB_POOL_MAX": "10", "DB_POOL_MIN": "2", "LEDGERD_LOG_LEVEL": "error"}})
		urls = append(urls, ld.URL+"/healthz")
	}
	dir := t.TempDir()
	p, raw := compressedPlan(t, urls, dir)
	planDir := filepath.Join(dir, p.Name)
	if _, err := change.Approve(planDir, p, "E2E Approver", p.Approvals.Statement, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, it := range p.Checklist {
		if _, err := change.TickItem(planDir, p, it.ID, "E2E Approver", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{p.Database.DSNEnv: w.dbURL, "POOLPILOT_ADMIN_TOKEN": adminToken}
	getenv := func(k string) string { return env[k] }
	hub, err := dashboard.NewHub(dashboard.Options{Token: dashToken, Secrets: []string{adminToken, w.dbURL},
		Rollback: func(dir, by, reason string) error {
			return runner.WriteRequest(dir, runner.Request{By: by, Reason: reason, Time: time.Now().UTC()})
		}})
	if err != nil {
		t.Fatal(err)
	}
	w.hub, w.live = hub, hub.Live()
	w.srv = httptest.NewServer(hub.Handler())
	t.Cleanup(func() { w.srv.Close(); hub.Close() })
	run := &assemble.Run{Plan: p, PlanYAML: raw, PlanDir: planDir, EvidenceDir: dir, Getenv: getenv}
	o := runner.Options{Run: run, Observer: w.live,
		Operator: runner.Operator{Name: "e2e", OverrideWindow: true, OverrideReason: "browser test"}}
	go func() {
		res, err := runner.Run(context.Background(), o)
		w.runErr = err
		w.done <- res
	}()
	return w
}

// runID waits for the run to start and returns its id.
func (w *world) runID(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for w.live.RunID() == "" {
		select {
		case res := <-w.done:
			t.Fatalf("run ended before it started: %+v %v", res, w.runErr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the run did not start within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return w.live.RunID()
}
