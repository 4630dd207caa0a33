package reliability

// The verdict is only as good as what was watched: these runs break what a
// succeeded run claims (an instance alive, the soak watched) and check the
// run does not say succeeded.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/plan"
)

// newProcessFixture is the run fixture with ledgerd as child processes (so
// that one can be SIGKILLed), approved and ticked.
func newProcessFixture(t *testing.T, soak time.Duration) *runFixture {
	t.Helper()
	cli := func(env map[string]string, args ...string) (string, string, int) {
		return runBinary(t, env, time.Minute, args...)
	}
	f := &runFixture{runtest.New(t, runtest.Options{DatabaseURL: pgtest.NewDatabase(t), Name: "verdict", Token: fixtureToken,
		Soak: soak, Process: true, CLI: cli})}
	return f
}

// waitExit waits up to d for cmd and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(d):
		t.Fatalf("poolpilot run still running after %s\n%s", d, cmd.Stderr.(*bytes.Buffer))
		return -1
	}
}

// waitSoak waits until cmd's run is in its soak; it fails with the run's
// output when the run ends or gets stuck before.
func waitSoak(t *testing.T, f *runFixture, cmd *exec.Cmd) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		for _, d := range f.RunDirs() {
			states := runtest.JournalStates(d)
			for _, s := range states {
				if s == string(change.StateSoak) {
					return d
				}
			}
			if len(states) > 0 && change.State(states[len(states)-1]).Terminal() {
				t.Fatalf("the run ended %s before its soak\n%s", states[len(states)-1], cmd.Stderr.(*bytes.Buffer))
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no soak within 2 minutes\n%s", cmd.Stderr.(*bytes.Buffer))
	return ""
}

// TestInstanceKilledMidSoakIsNotSuccess SIGKILLs one ledgerd as the soak
// starts and leaves it dead. Before, its criteria only went inconclusive
// and the run ended succeeded (exit 0) with the live instance at the new
// size. Now poolpilot's own requests to it fail (connection refused) and
// count in its error rate, and its success criteria are not ok at the
// soak's end: the run rolls back — or, since the dead instance cannot be
// resized back, ends rollback-failed naming it — and exits non-zero.
func TestInstanceKilledMidSoakIsNotSuccess(t *testing.T) {
	f := newProcessFixture(t, 8*time.Second)
	f.Approve()
	cmd := f.start("run", f.PlanFile)
	dir := waitSoak(t, f, cmd)
	dead := f.Ledgerds[1]
	if err := dead.Kill(); err != nil {
		t.Fatal(err)
	}
	code := waitExit(t, cmd, 3*time.Minute)
	end := lastState(dir)
	stderr := cmd.Stderr.(*bytes.Buffer).String()
	t.Logf("exit %d, end state %s", code, end)
	if code == 0 || end == string(change.StateSucceeded) {
		t.Fatalf("an instance died in the soak and the run says %s (exit %d)\n%s", end, code, stderr)
	}
	switch end {
	case string(change.StateRolledBack):
	case string(change.StateRollbackFailed):
		host := strings.TrimPrefix(dead.URL, "http://")
		if !strings.Contains(stderr, host) && !strings.Contains(stderr, "instance-2") {
			t.Errorf("rollback-failed does not name the dead instance %s:\n%s", host, stderr)
		}
	default:
		t.Fatalf("end state %s, want rolled-back or rollback-failed\n%s", end, stderr)
	}
	// poolpilot's own requests to the dead instance are in the evidence.
	var sm evidence.SustainedMonitoring
	if b, err := os.ReadFile(filepath.Join(dir, evidence.FileSustainedMonitoring)); err != nil || json.Unmarshal(b, &sm) != nil {
		t.Fatalf("sustained_monitoring.json: %v", err)
	}
	host := strings.TrimPrefix(dead.URL, "http://")
	var failures int64
	for _, c := range sm.Client {
		if c.Instance == host {
			failures = c.Failures
		}
	}
	if failures == 0 {
		t.Errorf("sustained_monitoring.json's client view shows no failed request to the dead instance %s: %+v", host, sm.Client)
	}
	// The instance that lived is back at change.from.
	if got := healthSize(t, f.Health[0]); got != f.P.Change.From {
		t.Errorf("the live instance is at %d:%d after the run, want change.from %d:%d", got.Max, got.Min, f.P.Change.From.Max, f.P.Change.From.Min)
	}
}

// TestFrozenControllerIsNotWatched SIGSTOPs poolpilot for 4 s of a 6 s
// soak. The frozen time is not watched time: with max_inconclusive longer
// than the freeze the soak is extended by it (the gap is in the evidence
// and the soak lasted at least its duration plus the gap); with a shorter
// max_inconclusive the run rolls back.
func TestFrozenControllerIsNotWatched(t *testing.T) {
	const soak, freeze = 6 * time.Second, 4 * time.Second
	for _, tc := range []struct {
		name    string
		maxInc  time.Duration
		success bool
	}{
		{"extended", 30 * time.Second, true},
		{"rolled back", 2 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRunFixture(t, soak, nil)
			f.P.Evaluation.MaxInconclusive = poolpilot.Duration(tc.maxInc)
			f.Write()
			f.Approve()
			cmd := f.start("run", f.PlanFile)
			dir := waitSoak(t, f, cmd)
			if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			time.Sleep(freeze) // the fault itself: the controller is stopped this long
			if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			code := waitExit(t, cmd, 3*time.Minute)
			stderr := cmd.Stderr.(*bytes.Buffer).String()
			end := lastState(dir)
			var sm evidence.SustainedMonitoring
			b, err := os.ReadFile(filepath.Join(dir, evidence.FileSustainedMonitoring))
			if err != nil || json.Unmarshal(b, &sm) != nil {
				t.Fatalf("sustained_monitoring.json: %v\n%s", err, stderr)
			}
			var gap float64
			for _, g := range sm.Gaps {
				gap = max(gap, g.Seconds)
			}
			t.Logf("exit %d, end %s, watched %.1fs, longest gap %.1fs, soak %s–%s", code, end, sm.WatchedSeconds, gap,
				sm.Started.Format("15:04:05.0"), sm.Ended.Format("15:04:05.0"))
			if gap < (freeze - time.Second).Seconds() {
				t.Errorf("the %s freeze is not recorded as a gap: gaps %+v", freeze, sm.Gaps)
			}
			if !tc.success {
				if code == 0 || end == string(change.StateSucceeded) {
					t.Fatalf("frozen %s with max_inconclusive %s and the run says %s (exit %d)\n%s", freeze, tc.maxInc, end, code, stderr)
				}
				if !strings.Contains(sm.Reason, "no evaluation for") {
					t.Errorf("soak reason %q does not say the controller was not evaluating", sm.Reason)
				}
				return
			}
			if code != 0 || end != string(change.StateSucceeded) {
				t.Fatalf("exit %d, end %s: want succeeded after an extended soak\n%s", code, end, stderr)
			}
			if sm.WatchedSeconds < soak.Seconds() {
				t.Errorf("watched %.1fs of a %s soak", sm.WatchedSeconds, soak)
			}
			if took := sm.Ended.Sub(sm.Started); took < soak+freeze-time.Second {
				t.Errorf("the soak took %s: not extended by the %s freeze", took, freeze)
			}
		})
	}
}

// healthSize reads one instance's pool max:min from its /healthz.
func healthSize(t *testing.T, url string) plan.PoolSize {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h poolpilot.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return plan.PoolSize{Max: h.Pool.Max, Min: h.Pool.Min}
}
