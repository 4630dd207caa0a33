package main

import (
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/plan"
)

const breachQuery = "max(poolpilot_test_breach)"

func promBreachCriterion() poolpilot.CriterionSpec {
	return poolpilot.CriterionSpec{Name: "prom_breach", Role: poolpilot.RoleRollback, Class: poolpilot.ClassP1,
		Expr: "promql > 0.5", Query: breachQuery, For: poolpilot.Duration(time.Second),
		Description: "a signal only Prometheus has"}
}

// TestRunRefusesACriterionNoSourceFeeds: a promql criterion without
// prometheus.url is refused by preflight (exit 4, naming it and its
// metric) and by run before any change; marked optional, preflight warns
// and the run skips it with criterion_skipped. A credential variable the
// prometheus section names but the environment lacks is bad input.
func TestRunRefusesACriterionNoSourceFeeds(t *testing.T) {
	f := &runFixture{runtest.New(t, runtest.Options{Soak: 3 * time.Second, CLI: inProcessCLI(t)})}
	f.P.Criteria = append(f.P.Criteria, promBreachCriterion())
	f.Write()
	f.Approve()
	want := `criterion "prom_breach": metric promql:` + breachQuery + `: no Prometheus to query: set the plan's prometheus.url`
	out, stderr, code := runCLI(t, f.Getenv, "preflight", f.PlanFile)
	if code != poolpilot.ExitRefused || !strings.Contains(out, "FAIL  Every criterion has a source") || !strings.Contains(out, want) {
		t.Fatalf("preflight: exit %d, want 4 naming the criterion\n%s\n%s", code, out, stderr)
	}
	out, stderr, code = runCLI(t, f.Getenv, "run", f.PlanFile)
	if code != poolpilot.ExitRefused || !strings.Contains(out+stderr, want) {
		t.Fatalf("run: exit %d, want 4 naming the criterion\n%s\n%s", code, out, stderr)
	}
	f.ExpectAllAt(f.P.Change.From)

	f.P.Prometheus = plan.Prometheus{URL: "http://127.0.0.1:9", BearerTokenEnv: "PROM_TOKEN"}
	f.Write()
	for _, cmd := range []string{"preflight", "run"} {
		if _, stderr, code := runCLI(t, f.Getenv, cmd, f.PlanFile); code != poolpilot.ExitBadInput || !strings.Contains(stderr, "PROM_TOKEN (prometheus.bearer_token_env)") {
			t.Errorf("%s with PROM_TOKEN unset: exit %d, want 2 naming it: %s", cmd, code, stderr)
		}
	}
	// Set, but nothing listens at the URL: the criterion cannot be fed.
	f.Env["PROM_TOKEN"] = "prom-token-s3cret"
	out, stderr, code = runCLI(t, f.Getenv, "preflight", f.PlanFile)
	if code != poolpilot.ExitRefused || !strings.Contains(out, `criterion "prom_breach": metric promql:`+breachQuery+`: Prometheus did not answer the query: query failed`) || strings.Contains(out+stderr, "s3cret") {
		t.Errorf("preflight against no Prometheus: exit %d, want 4 naming the criterion\n%s\n%s", code, out, stderr)
	}

	f.P.Prometheus = plan.Prometheus{}
	f.P.Criteria[len(f.P.Criteria)-1].Optional = true
	f.Write()
	f.Approve()
	out, stderr, code = runCLI(t, f.Getenv, "preflight", f.PlanFile)
	if code != 0 || !strings.Contains(out, "WARN  Every criterion has a source") || !strings.Contains(out, want) {
		t.Fatalf("preflight of the optional criterion: exit %d, want 0 and a warning\n%s\n%s", code, out, stderr)
	}
	out, stderr, code = runCLI(t, f.Getenv, "run", f.PlanFile)
	if code != 0 {
		t.Fatalf("run with the optional criterion: exit %d\n%s\n%s", code, out, stderr)
	}
	dir := runDirOf(t, out)
	sk := runtest.AuditEvents(t, dir, "criterion_skipped")
	if len(sk) != 1 || sk[0]["name"] != "prom_breach" || sk[0]["metric"] != "promql:"+breachQuery || sk[0]["optional"] != true {
		t.Fatalf("criterion_skipped events %v", sk)
	}
	if !strings.Contains(stderr, "optional criterion prom_breach skipped") {
		t.Errorf("no warning on stderr:\n%s", stderr)
	}
}
