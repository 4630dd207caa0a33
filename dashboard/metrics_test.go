package dashboard

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
)

const metricsToken = "metrics-token-4b1d-planted"

// TestMetricsExportRunAndCriteria: /metrics holds the run's state (one
// series per state), each criterion's state and the time to fire of a
// pending one, wants the metrics token, and passes promtool check metrics.
func TestMetricsExportRunAndCriteria(t *testing.T) {
	lf := newLive(t, Options{Token: testToken, MetricsToken: metricsToken})
	id := lf.folder.RunID()
	lf.state(t, change.StatePreflight, change.StateAwaitingApproval, "")
	lf.state(t, change.StateAwaitingApproval, change.StateApproved, "")
	lf.state(t, change.StateApproved, change.StateBaseline, "")
	lf.state(t, change.StateBaseline, change.StateApplying, "")
	lf.eval(criteria.StatePending, 0.8, 7)
	url := lf.srv.URL + "/metrics"
	for _, hdr := range [][]string{nil, {"Authorization", "Bearer " + testToken}, {"Authorization", "Basic " + metricsToken}} {
		if code, h, _ := get(t, url, hdr...); code != 401 || h.Get("WWW-Authenticate") == "" {
			t.Errorf("GET /metrics with %v: %d, want 401", hdr, code)
		}
	}
	code, h, body := get(t, url, "Authorization", "Bearer "+metricsToken)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %s\n%s", code, h.Get("Content-Type"), body)
	}
	run := `plan="phase1_live",run_id="` + id + `"`
	for _, want := range []string{
		`poolpilot_run_state{` + run + `,state="applying"} 1`,
		`poolpilot_run_state{` + run + `,state="rollback-failed"} 0`,
		`poolpilot_criterion_state{` + run + `,criterion="pool-utilization",role="success",class="",state="pending"} 1`,
		`poolpilot_criterion_state{` + run + `,criterion="pool-utilization",role="success",class="",state="ok"} 0`,
		`poolpilot_criterion_state{` + run + `,criterion="error-rate-high",role="rollback",class="P0",state="ok"} 1`,
		`poolpilot_criterion_time_to_fire_seconds{` + run + `,criterion="pool-utilization"} 7`,
		`poolpilot_criterion_value{` + run + `,criterion="pool-utilization"} 0.8`,
		`poolpilot_criterion_threshold{` + run + `,criterion="error-rate-high"} 0.01`,
		"# TYPE poolpilot_run_state gauge",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `poolpilot_criterion_time_to_fire_seconds{`+run+`,criterion="error-rate-high"}`) {
		t.Error("an ok criterion has a time to fire")
	}
	if strings.Contains(body, "poolpilot_run_ended_timestamp_seconds") {
		t.Error("a running run has an end time")
	}
	if strings.Contains(body, planted) {
		t.Error("/metrics holds a secret")
	}
	promtoolCheck(t, body)

	lf.state(t, change.StateApplying, change.StateRollingBack, "")
	lf.state(t, change.StateRollingBack, change.StateRollbackFailed, "instance refused")
	_, _, body = get(t, url, "Authorization", "Bearer "+metricsToken)
	if !strings.Contains(body, `poolpilot_run_state{`+run+`,state="rollback-failed"} 1`) {
		t.Errorf("rollback-failed not exported:\n%s", body)
	}
}

func TestMetricsOffWithoutToken(t *testing.T) {
	lf := newLive(t, Options{})
	if code, _, body := get(t, lf.srv.URL+"/metrics"); code != 404 || !strings.Contains(body, "without a token") {
		t.Errorf("GET /metrics without a configured token: %d %s", code, body)
	}
	lf2 := newLive(t, Options{Token: testToken}) // no metrics token: the dashboard token serves
	if code, _, _ := get(t, lf2.srv.URL+"/metrics", "Authorization", "Bearer "+testToken); code != 200 {
		t.Errorf("GET /metrics with the dashboard token: %d", code)
	}
}

// promtoolCheck runs the real `promtool check metrics` (Debian package
// prometheus) on an exposition.
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (apt-get install prometheus): %v", err)
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, text)
	}
}
