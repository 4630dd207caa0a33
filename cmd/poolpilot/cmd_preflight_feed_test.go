package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// sharedDSN is a getenv with DATABASE_URL set to the tests' shared
// database: preflight needs the plan's dsn_env.
func sharedDSN(t *testing.T) func(string) string {
	u := pgtest.SharedURL(t)
	return func(k string) string {
		if k == "DATABASE_URL" {
			return u
		}
		return ""
	}
}

// fakeHealth serves body at /healthz: a service in another language whose
// document does not follow the contract.
func fakeHealth(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/healthz"
}

// A service that names its fields errorRate and latencyP95Ms and omits
// pool.wait_*: preflight refuses the plan (exit 4), naming each criterion
// and the field it lacks; an optional criterion is a warning that it will
// be skipped; baseline_health fails for want of request data.
func TestPreflightRefusesCriteriaNoInstanceCanFeed(t *testing.T) {
	url := fakeHealth(t, `{"status":"ok","pool":{"max":10,"min":2,"total":2,"acquired":0,"idle":2,"utilization":0,"acquires":10,"opened":2,"closed":0,"acquire_timeouts":0,"server_refusals":0,"waiting":0,"oldest_wait_ms":0,"churn":0},
	  "requests":{"total":1200,"errors":360,"errorRate":0.3,"latencyP95Ms":4000,"window_seconds":60}}`)
	file := writeTestPlan(t, t.TempDir(), "admin", url,
		`- {name: latency_p95_high, role: rollback,`, `- {name: latency_p95_high, optional: true, role: rollback,`)
	checks, code := preflightChecks(t, sharedDSN(t), file)
	if code != 4 {
		t.Fatalf("exit %d, want 4", code)
	}
	expect(t, checks, "criteria_fed", "fail",
		"criterion error_rate: metric error_rate: field requests.error_rate absent from the health document of instance-1",
		"criterion latency_p95: metric latency_p95_ms: field requests.latency_p95_ms absent",
		"criterion pool_wait_p95: metric pool.wait_p95_ms: field pool.wait_p95_ms absent",
		"criterion latency_p95_high is optional and will be skipped")
	expect(t, checks, "baseline_health", "fail", "no request data: fields requests.error_rate, requests.latency_p95_ms absent from the health document")
	if d := checks["criteria_fed"].Detail; strings.Contains(d, "criterion pool_max") || strings.Contains(d, "db_cpu_high") {
		t.Errorf("criteria_fed names a criterion that is fed, or one of another source: %s", d)
	}
}

// Every field present but pool.wait_p95_ms, and the criterion that reads
// it marked optional: a warning, not a refusal, from criteria_fed.
func TestPreflightOptionalCriterionIsAWarning(t *testing.T) {
	url := fakeHealth(t, `{"schema":"1.0","status":"ok","pool":{"max":10,"min":2,"total":2,"acquired":0,"idle":2,"utilization":0,"acquires":10,"opened":2,"closed":0,"acquire_timeouts":0,"server_refusals":0,"waiting":0,"oldest_wait_ms":0,"churn":0,"wait_p50_ms":0,"wait_p99_ms":0},
	  "requests":{"total":1200,"errors":0,"error_rate":0,"latency_p50_ms":3,"latency_p95_ms":8,"latency_p99_ms":12,"window_seconds":60}}`)
	file := writeTestPlan(t, t.TempDir(), "admin", url,
		`- {name: pool_wait_p95, role: success,`, `- {name: pool_wait_p95, optional: true, role: success,`)
	checks, _ := preflightChecks(t, sharedDSN(t), file)
	expect(t, checks, "criteria_fed", "warn", "criterion pool_wait_p95 is optional and will be skipped", "field pool.wait_p95_ms absent")
	expect(t, checks, "baseline_health", "pass", "error rate 0.0000, p95 8.0 ms over 1200 requests")
}

// A document of a future major version is refused by name.
func TestPreflightRefusesAnUnknownSchemaMajor(t *testing.T) {
	url := fakeHealth(t, `{"schema":"2.0","status":"ok","pool":{"max":10,"min":2}}`)
	file := writeTestPlan(t, t.TempDir(), "admin", url)
	checks, code := preflightChecks(t, sharedDSN(t), file)
	if code != 4 {
		t.Fatalf("exit %d, want 4", code)
	}
	expect(t, checks, "instances_from_config", "fail", "health document schema 2.0: this poolpilot reads 1.x")
	expect(t, checks, "criteria_fed", "fail", "no instance answered")
}

// An instance that runs 4 processes, each with its own pool, counts 4 ×
// max in the connection budget: max 30 fits a default server (100) for
// one process, not for four.
func TestPreflightBudgetCountsProcesses(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{Settings: map[string]string{"max_connections": "100"}})
	env := map[string]string{"DATABASE_URL": srv.URL("postgres")}
	getenv := func(k string) string { return env[k] }
	url := fakeHealth(t, `{"schema":"1.0","status":"ok","pool":{"max":10,"min":2,"total":2},"requests":{"total":0,"errors":0,"error_rate":0,"latency_p95_ms":0,"window_seconds":60}}`)
	dir := t.TempDir()
	one := writeTestPlan(t, dir, "admin", url, "to: {max: 200, min: 20}", "to: {max: 30, min: 5}")
	four := writeTestPlan(t, dir, "admin", url, "to: {max: 200, min: 20}", "to: {max: 30, min: 5}",
		"    admin_token_env: POOLPILOT_ADMIN_TOKEN", "    admin_token_env: POOLPILOT_ADMIN_TOKEN\n    processes: 4")
	checks, _ := preflightChecks(t, getenv, one)
	expect(t, checks, "connection_budget", "pass", "(1 instance(s) + 0 surge) × max 30")
	checks, code := preflightChecks(t, getenv, four)
	if code != 4 {
		t.Errorf("exit %d, want 4", code)
	}
	expect(t, checks, "connection_budget", "fail", "(4 instance(s) + 0 surge) × max 30", "counted as pools: instance-1 × 4 processes")
	text, err := os.ReadFile(one)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(string(text), "    admin_token_env: POOLPILOT_ADMIN_TOKEN", "    admin_token_env: POOLPILOT_ADMIN_TOKEN\n    processes: -1", 1)), 0o600)
	if _, stderr, code := runCLI(t, nil, "plan", "check", bad); code != 2 || !strings.Contains(stderr, "instances[0].processes: -1: want 1–1000") {
		t.Errorf("processes -1: exit %d, %s", code, stderr)
	}
}
