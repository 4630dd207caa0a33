package change

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// countingRecorder counts the writes of each evidence file.
type countingRecorder struct {
	evidence.MemRecorder
	mu     sync.Mutex
	writes map[string]int
}

func (r *countingRecorder) WriteFile(name string, data []byte) error {
	r.mu.Lock()
	if r.writes == nil {
		r.writes = map[string]int{}
	}
	r.writes[name]++
	r.mu.Unlock()
	return r.MemRecorder.WriteFile(name, data)
}

func fiveInstancePlan(t *testing.T) *plan.Plan {
	t.Helper()
	p := threeInstancePlan(t)
	p.Instances = append(p.Instances, p.Instances[0], p.Instances[0])
	for i := range p.Instances {
		p.Instances[i].Name = fmt.Sprintf("i%d", i+1)
	}
	p.Rollout.BatchSize = 2
	return p
}

// The driver log is written once per batch, forward and back, and the
// rollback goes batch by batch, each verified before the next one.
func TestLogsFlushedPerBatchAndRollbackBatched(t *testing.T) {
	p := fiveInstancePlan(t)
	h := newHarness(t, p, "")
	rec := &countingRecorder{}
	h.c.Recorder = rec
	h.c.Phases.Soak = func(context.Context) (Verdict, error) {
		return Verdict{Rollback: true, Criterion: "error_rate_high", Reason: "error rate 0.02 > 0.01"}, nil
	}
	out, err := h.c.Run(context.Background())
	if err != nil || out.State != StateRolledBack {
		t.Fatalf("outcome %+v, %v", out, err)
	}
	h.allAt(t, p.Change.From)
	if n := rec.writes["deployment_log.txt"]; n != 6 {
		t.Errorf("deployment_log.txt written %d times, want 6 (3 batches forward, 3 back)", n)
	}
	if log := rec.File("deployment_log.txt"); strings.Count(log, "\n") != 10 {
		t.Errorf("deployment_log.txt has %d lines, want all 10:\n%s", strings.Count(log, "\n"), log)
	}
	var after []string
	seen := false
	for _, e := range rec.Events() {
		if e == "rollback" {
			seen = true
			continue
		}
		if seen && (e == "apply" || e == "verify") {
			after = append(after, e)
		}
	}
	want := "apply apply verify verify apply apply verify verify apply verify"
	if got := strings.Join(after, " "); got != want {
		t.Errorf("rollback sequence %q, want %q", got, want)
	}
}

// A rollback apply that fails on one instance still restores the others
// (and the log keeps every line written before the failure).
func TestRollbackKeepsGoingPastAFailedInstance(t *testing.T) {
	p := fiveInstancePlan(t)
	h := newHarness(t, p, "")
	h.fleet.failOn["i2"] = 2 // the rollback's apply
	h.c.Phases.Soak = func(context.Context) (Verdict, error) {
		return Verdict{Rollback: true, Criterion: "error_rate_high", Reason: "error rate 0.02 > 0.01"}, nil
	}
	out, err := h.c.Run(context.Background())
	if err != nil || out.State != StateRollbackFailed || !strings.Contains(out.Reason, "instance refused the change") {
		t.Fatalf("outcome %+v, %v", out, err)
	}
	for _, name := range []string{"i1", "i3", "i4", "i5"} {
		if h.fleet.size[name] != p.Change.From {
			t.Errorf("%s at %v, want %v", name, h.fleet.size[name], p.Change.From)
		}
	}
	if log := h.rec.File("deployment_log.txt"); strings.Count(log, "-> 10:2") != 4 {
		t.Errorf("deployment_log.txt:\n%s", log)
	}
}

// A forward apply that fails mid-batch flushes the lines written so far.
func TestFailedApplyFlushesTheLog(t *testing.T) {
	p := fiveInstancePlan(t)
	h := newHarness(t, p, "")
	h.fleet.failOn["i4"] = 1
	out, err := h.c.Run(context.Background())
	if err != nil || out.State != StateRolledBack {
		t.Fatalf("outcome %+v, %v", out, err)
	}
	log := h.rec.File("deployment_log.txt")
	for _, w := range []string{"i1 -> 200:20", "i3 -> 200:20", "i3 -> 10:2"} {
		if !strings.Contains(log, w) {
			t.Errorf("deployment_log.txt lacks %q:\n%s", w, log)
		}
	}
}

// The rollback's default bound grows with its batches.
func TestRollbackTimeoutCoversTheBatches(t *testing.T) {
	p := fiveInstancePlan(t) // verify_timeout 5s, batch size 2
	c := &Controller{Plan: p}
	if got := c.rollbackTimeout(5); got != 10*time.Minute {
		t.Errorf("admin, 3 batches: %s, want the 10m floor", got)
	}
	c.Driver = waitingDriver{10 * time.Minute} // kube: its rollout timeout
	if got := c.rollbackTimeout(5); got != 3*(5*time.Second+10*time.Minute) {
		t.Errorf("a driver that waits 10m, 3 batches: %s", got)
	}
	c.RollbackTimeout = time.Minute
	if got := c.rollbackTimeout(5); got != time.Minute {
		t.Errorf("explicit: %s", got)
	}
}

// waitingDriver is a driver whose Apply waits up to d (driver.Waiter).
type waitingDriver struct{ d time.Duration }

func (waitingDriver) Name() string { return "waiting" }
func (waitingDriver) Apply(context.Context, plan.Instance, plan.PoolSize, io.Writer) error {
	return nil
}
func (w waitingDriver) WaitTimeout() time.Duration { return w.d }
