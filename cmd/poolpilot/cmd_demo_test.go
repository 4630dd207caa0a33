package main

import (
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
)

func TestDemoSuccessScenarioEndToEnd(t *testing.T) {
	start := time.Now()
	dir := t.TempDir()
	out, stderr, code := runCLI(t, nil, "demo", "--scenario", "success", "--evidence-dir", dir,
		"--baseline", "2s", "--load-duration", "3s", "--rate", "20", "--soak-rate", "10", "--soak", "8s", "--window", "3s")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if d := time.Since(start); d > 40*time.Second {
		t.Errorf("demo took %v", d)
	}
	for _, want := range []string{"phase1_demo_success: succeeded", "evidence verify: OK", "report.html"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	i := strings.Index(out, "evidence: ")
	if i < 0 {
		t.Fatal(out)
	}
	runDir := strings.TrimSpace(strings.SplitN(out[i+len("evidence: "):], "\n", 2)[0])
	res, err := evidence.Verify(runDir, nil)
	if err != nil || !res.OK {
		t.Fatalf("verify %s: %+v %v", runDir, res.First(), err)
	}
	for _, f := range []string{"pre_change_metrics.json", "pre_change_config.json", "pre_change_connections.txt", "pre_change_error_rate.txt",
		"pre_change_latency.json", "deployment_log.txt", "config_diff.txt", "post_change_config.json", "synthetic_load_test_results.json",
		"sustained_monitoring.json", "error_rate_comparison.txt", "latency_comparison.json", "EXECUTION_LOG.md", "report.md", "approval.json", "checklist.json"} {
		found := false
		for _, fc := range res.Files {
			found = found || fc.Name == f
		}
		if !found {
			t.Errorf("evidence lacks %s", f)
		}
	}
}

func TestDemoBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--scenario", "chaos"},
		{"demo", "--soak", "0s"},
		{"demo", "extra"},
	} {
		_, stderr, code := runCLI(t, nil, args...)
		if code != poolpilot.ExitBadInput || !strings.Contains(stderr, "poolpilot:") {
			t.Errorf("%v: exit %d, stderr %q; want 2", args, code, stderr)
		}
	}
}
