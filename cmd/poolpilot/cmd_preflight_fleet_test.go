package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/advisor"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgbouncertest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/plan"
)

type pfCheck struct{ ID, Status, Detail string }

// preflightChecks runs preflight --json and returns its checks by id.
func preflightChecks(t *testing.T, getenv func(string) string, args ...string) (map[string]pfCheck, int) {
	t.Helper()
	out, stderr, code := runCLI(t, getenv, append([]string{"preflight", "--json"}, args...)...)
	var rep struct{ Checks []pfCheck }
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("preflight %v: exit %d, %v\n%s\n%s", args, code, err, out, stderr)
	}
	m := map[string]pfCheck{}
	for _, c := range rep.Checks {
		m[c.ID] = c
	}
	return m, code
}

// writeTestPlan writes the seed plan for driver (one instance at health)
// with the replacements applied.
func writeTestPlan(t *testing.T, dir, driver, health string, repl ...string) string {
	t.Helper()
	o := plan.SeedInitOptions()
	o.Driver, o.HealthURLs = driver, []string{health}
	b, err := plan.Init(o)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(repl); i += 2 {
		if !strings.Contains(s, repl[i]) {
			t.Fatalf("plan has no %q", repl[i])
		}
		s = strings.Replace(s, repl[i], repl[i+1], 1)
	}
	if _, err := plan.Parse([]byte(s)); err != nil {
		t.Fatalf("test plan: %v", err)
	}
	f, err := os.CreateTemp(dir, "plan-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

func expect(t *testing.T, checks map[string]pfCheck, id, status string, wants ...string) {
	t.Helper()
	c, ok := checks[id]
	if !ok {
		t.Errorf("no check %s", id)
		return
	}
	if c.Status != status {
		t.Errorf("%s = %s, want %s: %s", id, c.Status, status, c.Detail)
	}
	for _, w := range wants {
		if !strings.Contains(c.Detail, w) {
			t.Errorf("%s detail %q does not contain %q", id, c.Detail, w)
		}
	}
}

// A kube plan: preflight reads the Deployment (3 replicas, HPA max 10,
// default maxSurge 25% → 3) for the budget and compares its env with
// change.from; run --dry-run prints the exact patch and the arithmetic.
func TestPreflightKubePlanReadsTheFleet(t *testing.T) {
	db := pgtest.NewDatabase(t)
	inst := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: db, AdminToken: "tok-kube", Env: map[string]string{"DB_POOL_MAX": "10", "DB_POOL_MIN": "2"}})
	kc := fakeAPIServer(t)
	dir := t.TempDir()
	kubeconf := "# kubeconfig: ~/.kube/prod"
	file := writeTestPlan(t, dir, plan.DriverKube, inst.URL+"/healthz",
		"kube://default/instance-1", "kube://prod/ledgerd/app", kubeconf, "kubeconfig: "+kc, "to: {max: 200, min: 20}", "to: {max: 20, min: 5}")
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": db, "POOLPILOT_ADMIN_TOKEN": "tok-kube"}[k]
	}
	checks, _ := preflightChecks(t, getenv, file)
	expect(t, checks, "connection_budget", checks["connection_budget"].Status, "(10 instance(s) + 3 surge) × max 20", "HPA ledgerd maxReplicas", "maxSurge default 25% rounded up")
	expect(t, checks, "deployment_env", "pass", "DB_POOL_MAX=10 DB_POOL_MIN=2")

	// change.from 10:4 does not describe the Deployment: refused, named.
	bad := writeTestPlan(t, dir, plan.DriverKube, inst.URL+"/healthz",
		"kube://default/instance-1", "kube://prod/ledgerd/app", kubeconf, "kubeconfig: "+kc, "from: {max: 10, min: 2}", "from: {max: 10, min: 4}")
	checks, code := preflightChecks(t, getenv, bad)
	if code != poolpilot.ExitRefused {
		t.Errorf("mismatched env: exit %d, want 4", code)
	}
	expect(t, checks, "deployment_env", "fail", "kube://prod/ledgerd/app", "DB_POOL_MIN=2, change.from says 4")

	// An unreachable cluster fails the checks that need it, with the reason.
	gone := writeTestPlan(t, dir, plan.DriverKube, inst.URL+"/healthz", kubeconf, "kubeconfig: "+filepath.Join(dir, "nope"))
	checks, _ = preflightChecks(t, getenv, gone)
	expect(t, checks, "connection_budget", "fail", "nope")
	expect(t, checks, "deployment_env", "fail", "nope")

	// run builds the kube driver from the plan's kubeconfig before any run
	// folder: an unreadable one is bad input and leaves nothing behind.
	if _, stderr, code := runCLI(t, getenv, "run", gone); code != poolpilot.ExitBadInput || !strings.Contains(stderr, "driver kube") {
		t.Errorf("run with an unreadable kubeconfig: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "launch")); !os.IsNotExist(err) {
		t.Errorf("a run folder was created: %v", err)
	}
	// With the cluster readable the run gets as far as preflight (refused:
	// the checklist is not ticked), having built the driver.
	if _, stderr, code := runCLI(t, getenv, "run", file); code != poolpilot.ExitRefused || !strings.Contains(stderr, "preflight") {
		t.Errorf("run: exit %d, %s", code, stderr)
	}

	out, stderr, _ := runCLI(t, getenv, "run", file, "--dry-run")
	for _, w := range []string{`{"name":"DB_POOL_MAX","value":"20","valueFrom":null}`, "peak pods = 10 + 3 = 13", "13 pods × DB_POOL_MAX 20 = 260",
		"now DB_POOL_MAX=10 DB_POOL_MIN=2", "restore exactly the env recorded", "poolpilot.dev/previous-env"} {
		if !strings.Contains(out, w) {
			t.Errorf("dry run does not show %q:\n%s\n%s", w, out, stderr)
		}
	}
}

// Behind PgBouncer (a real one): the client side against max_client_conn
// and the server side against max_connections; pooler_max_clients for a
// pooler whose console cannot be read.
func TestPreflightPoolerBudget(t *testing.T) {
	direct := pgtest.NewDatabase(t)
	u, _ := url.Parse(direct)
	port, _ := strconv.Atoi(u.Port())
	b := pgbouncertest.New(t, pgbouncertest.Options{UpstreamPort: port, PoolMode: "transaction", PoolSize: 5, MaxClients: 500})
	inst := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: direct, AdminToken: "tok", Env: map[string]string{"DB_POOL_MAX": "10", "DB_POOL_MIN": "2"}})
	env := map[string]string{"DATABASE_URL": direct, "POOLPILOT_ADMIN_TOKEN": "tok", "PGBOUNCER_ADMIN_URL": b.URL("pgbouncer")}
	getenv := func(k string) string { return env[k] }
	dir := t.TempDir()
	console := "# pgbouncer_admin_dsn_env: PGBOUNCER_ADMIN_URL"
	for _, tc := range []struct {
		instances, status string
		wants             []string
	}{
		{"3", "fail", []string{"3 instances × DB_POOL_MAX 200", "= 600 > (DOES NOT FIT) max_client_conn 500", "at most 166"}},
		{"2", "pass", []string{"= 400 ≤ max_client_conn 500", "server side: 1 user(s) × (", "server side 5 ≤"}},
	} {
		file := writeTestPlan(t, dir, plan.DriverAdmin, inst.URL+"/healthz", console, "pgbouncer_admin_dsn_env: PGBOUNCER_ADMIN_URL",
			"surge: 0 ", "max_instances: "+tc.instances+"\n  surge: 0 ")
		checks, _ := preflightChecks(t, getenv, file)
		expect(t, checks, "pooler_budget", tc.status, tc.wants...)
		expect(t, checks, "connection_budget", "skip", "through a pooler")
	}
	// The console's URL unset: named in the credentials check and the budget.
	file := writeTestPlan(t, dir, plan.DriverAdmin, inst.URL+"/healthz", console, "pgbouncer_admin_dsn_env: PGBOUNCER_ADMIN_URL")
	checks, _ := preflightChecks(t, func(k string) string {
		if k == "PGBOUNCER_ADMIN_URL" {
			return ""
		}
		return env[k]
	}, file)
	expect(t, checks, "pooler_budget", "fail", "PGBOUNCER_ADMIN_URL is empty")
	expect(t, checks, "credentials_present", "fail", "PGBOUNCER_ADMIN_URL (PgBouncer admin console)")
	// Neon: no console, the plan's number.
	for _, tc := range []struct{ limit, status, want string }{
		{"10000", "pass", "(1 instance(s) + 0 surge) × max 200 + 0 other client(s) = 200 ≤ pooler_max_clients 10000"},
		{"150", "fail", "= 200 > (DOES NOT FIT) pooler_max_clients 150"},
	} {
		file := writeTestPlan(t, dir, plan.DriverAdmin, inst.URL+"/healthz", "# pooler_max_clients: 10000", "pooler_max_clients: "+tc.limit)
		checks, _ := preflightChecks(t, getenv, file)
		expect(t, checks, "pooler_budget", tc.status, tc.want)
	}
}

// The sizing recommendation: a warning far above it, skipped without a
// report or with a refusal, passed within it; --sizing overrides the plan.
func TestPreflightSizingRecommendation(t *testing.T) {
	db := pgtest.NewDatabase(t)
	inst := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: db, AdminToken: "tok", Env: map[string]string{"DB_POOL_MAX": "10", "DB_POOL_MIN": "2"}})
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": db, "POOLPILOT_ADMIN_TOKEN": "tok"}[k] }
	dir := t.TempDir()
	save := func(name string, rec advisor.Recommendation) string {
		r := &advisor.Report{Schema: advisor.Schema, Workload: "select1", Recommended: rec}
		path := filepath.Join(dir, name)
		if err := r.Save(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	save("small.json", advisor.Recommendation{Max: 4, Min: 1, Reason: "max 4 reaches 99% of the peak throughput"})
	big := save("big.json", advisor.Recommendation{Max: 150, Min: 38, Reason: "max 150 reaches 95%"})
	refused := save("refused.json", advisor.Recommendation{Refused: true, Reason: "only 3 steps were measured"})

	plain := writeTestPlan(t, dir, plan.DriverAdmin, inst.URL+"/healthz")
	checks, _ := preflightChecks(t, getenv, plain)
	expect(t, checks, "sizing_recommendation", "skip", "no sizing report")

	// database.sizing_report is relative to the plan file.
	withReport := writeTestPlan(t, dir, plan.DriverAdmin, inst.URL+"/healthz", "# sizing_report: sizing.json", "sizing_report: small.json")
	checks, _ = preflightChecks(t, getenv, withReport)
	expect(t, checks, "sizing_recommendation", "warn", "the plan's max 200 is 50.0× the measured recommendation 4", "small.json")
	if checks["manual_checklist"].Status != "fail" || checks["sizing_recommendation"].Status == "fail" {
		t.Errorf("sizing must warn, not fail: %+v", checks["sizing_recommendation"])
	}
	checks, _ = preflightChecks(t, getenv, withReport, "--sizing", big)
	expect(t, checks, "sizing_recommendation", "pass", "change.to.max 200 is within 2× the recommended max 150")
	checks, _ = preflightChecks(t, getenv, plain, "--sizing", refused)
	expect(t, checks, "sizing_recommendation", "skip", "holds no recommendation: only 3 steps were measured")

	// A missing report named in the plan warns; one named on the command line is bad input.
	missing := writeTestPlan(t, dir, plan.DriverAdmin, inst.URL+"/healthz", "# sizing_report: sizing.json", "sizing_report: nothere.json")
	checks, _ = preflightChecks(t, getenv, missing)
	expect(t, checks, "sizing_recommendation", "warn", "nothere.json")
	if _, stderr, code := runCLI(t, getenv, "preflight", plain, "--sizing", filepath.Join(dir, "nothere.json")); code != poolpilot.ExitBadInput || !strings.Contains(stderr, "--sizing") {
		t.Errorf("--sizing missing file: exit %d, %s", code, stderr)
	}
}
