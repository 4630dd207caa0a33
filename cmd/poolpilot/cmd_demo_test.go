package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/testutil"
)

func TestDemoSuccessScenarioEndToEnd(t *testing.T) {
	demoVerdictTest(t)
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

func TestDemoKeepRunsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errw testutil.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--scenario", "success", "--keep", "--evidence-dir", t.TempDir(),
			"--baseline", "1s", "--load-duration", "2s", "--rate", "20", "--soak-rate", "10", "--soak", "3s", "--window", "2s"},
			func(string) string { return "" }, strings.NewReader(""), &out, &errw)
	}()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(errw.String(), "--keep: ledgerd on") {
		select {
		case err := <-done:
			t.Fatalf("demo --keep returned before Ctrl-C: %v\n%s", err, errw.String())
		case <-deadline:
			t.Fatalf("demo --keep never said it keeps running:\n%s", errw.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Under -race the act runs whole but its latency verdict judges the
	// host (see demoVerdictTest): it must end, with a verdict and verified
	// evidence; without -race it must succeed.
	want := "phase1_demo_success: succeeded"
	if raceEnabled {
		want = "phase1_demo_success: "
	}
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "evidence verify: OK") {
		t.Errorf("the act did not end with %q and verified evidence:\n%s\n%s", want, out.String(), errw.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after Ctrl-C: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo --keep did not stop after Ctrl-C")
	}
}

// The third act: the staircase settles below the target 200 (at 50:20
// unless the shared machine's noise stops it earlier), because ledgerd
// answers 300 ms slower past a pool max of 50.
func TestDemoStaircaseScenarioSettles(t *testing.T) {
	demoVerdictTest(t)
	dir := t.TempDir()
	out, stderr, code := runCLI(t, nil, "demo", "--scenario", "staircase", "--evidence-dir", dir,
		"--baseline", "2s", "--load-duration", "2s", "--rate", "20", "--soak-rate", "10", "--soak", "6s", "--window", "3s")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, want := range []string{"phase1_demo_staircase: settled", "below change.to 200:20", "evidence verify: OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", want, out, stderr)
		}
	}
}

// demoVerdictTest skips, under the race detector, a test whose pass is the
// demo's success act ending "succeeded". That verdict is a latency judgement
// (p95 after the change against the baseline) over a few dozen requests to
// ledgerd, which runs in-process: under -race every request costs 10× the
// CPU (p95 ≈ 50 ms instead of 6 ms on a 2-core machine) and one scheduling
// stall of the shared host fails the criterion, so the verdict measures the
// host, not poolpilot. scripts/test.sh runs these tests again without -race
// (its "timing" step), so CI always runs them; the demo's code paths are
// also exercised under -race by the run and reliability suites.
func demoVerdictTest(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("judges the demo's latency verdict: run without -race by scripts/test.sh (go test -run 'TestDemo' ./cmd/poolpilot/)")
	}
}
