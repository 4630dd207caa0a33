package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/promtest"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/runner"
)

// TestRunRollsBackOnPromQLBreachInSoak: the built binary runs a change on
// two ledgerd processes while a real Prometheus scrapes a gauge; the plan's
// promql trigger (with a bearer token and a tenant header from the
// environment) is ok through baseline and load test; the gauge rises when
// the soak starts and the run rolls back (exit 3), naming the criterion,
// both pools back at change.from, with neither secret in the evidence or
// the output. Before, run skipped promql criteria (only watch had a
// Prometheus source) and succeeded.
func TestRunRollsBackOnPromQLBreachInSoak(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g := promtest.NewGauge(t, "poolpilot_test_breach")
	ps := promtest.New(t, promtest.Options{Targets: []string{g.Addr}})
	if err := ps.WaitTargetsUp(ctx); err != nil {
		t.Fatalf("%v\n%s", err, ps.Logs())
	}
	f := newProcessFixture(t, 40*time.Second)
	f.P.Prometheus = plan.Prometheus{URL: ps.URL, BearerTokenEnv: "PROM_TOKEN", HeadersEnv: map[string]string{"X-Scope-OrgID": "PROM_TENANT"}}
	f.P.Criteria = append(f.P.Criteria, poolpilot.CriterionSpec{Name: "prom_breach", Role: poolpilot.RoleRollback, Class: poolpilot.ClassP1,
		Expr: "promql > 0.5", Query: "max(poolpilot_test_breach)", For: poolpilot.Duration(time.Second),
		Description: "a signal only Prometheus has"})
	f.Env["PROM_TOKEN"], f.Env["PROM_TENANT"] = "prom-token-s3cret", "tenant-s3cret"
	f.Write()
	f.Approve()
	cmd := f.start("run", f.PlanFile, "--json")
	dir := waitSoak(t, f, cmd)
	g.Set(1)
	code := waitExit(t, cmd, 2*time.Minute)
	out, stderr := cmd.Stdout.(*bytes.Buffer).String(), cmd.Stderr.(*bytes.Buffer).String()
	if code != poolpilot.ExitFailed {
		t.Fatalf("exit %d, want 3\n%s\n%s", code, out, stderr)
	}
	var res runner.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if res.State != change.StateRolledBack || !strings.Contains(res.Reason, "prom_breach") {
		t.Fatalf("outcome %s: %s", res.State, res.Reason)
	}
	f.ExpectAllAt(f.P.Change.From)
	mustVerifyEvidence(t, dir)
	fired := runtest.AuditEvents(t, dir, "criterion_fired")
	if len(fired) == 0 || fired[0]["name"] != "prom_breach" || fired[0]["phase"] != "soak" {
		t.Errorf("criterion_fired events %v: want prom_breach in the soak", fired)
	}
	if sk := runtest.AuditEvents(t, dir, "criterion_skipped"); len(sk) > 0 {
		t.Errorf("criteria skipped: %v", sk)
	}
	runtest.NoSecretIn(t, dir, "prom-token-s3cret", "tenant-s3cret")
	if strings.Contains(out+stderr, "s3cret") {
		t.Error("a Prometheus secret in the CLI's output")
	}
}
