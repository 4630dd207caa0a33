package change

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/plan/plantest"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeFleet is a set of instances whose pool size the fake driver sets and
// the fake prober reports.
type fakeFleet struct {
	mu      sync.Mutex
	size    map[string]plan.PoolSize
	failOn  map[string]int // instance → fail the Nth apply (1-based); -1 every time
	applies map[string]int
	stuck   map[string]bool // health never shows the new size
	calls   []string
}

func newFleet(p *plan.Plan) *fakeFleet {
	f := &fakeFleet{size: map[string]plan.PoolSize{}, failOn: map[string]int{}, applies: map[string]int{}, stuck: map[string]bool{}}
	for _, in := range p.Instances {
		f.size[in.Name] = p.Change.From
	}
	return f
}

func (f *fakeFleet) Name() string { return "fake" }

func (f *fakeFleet) Apply(_ context.Context, in plan.Instance, size plan.PoolSize, log io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applies[in.Name]++
	f.calls = append(f.calls, fmt.Sprintf("%s=%d:%d", in.Name, size.Max, size.Min))
	if n := f.failOn[in.Name]; n == -1 || n == f.applies[in.Name] {
		return errors.New("instance refused the change")
	}
	fmt.Fprintf(log, "%s -> %d:%d\n", in.Name, size.Max, size.Min)
	if !f.stuck[in.Name] {
		f.size[in.Name] = size
	}
	return nil
}

func (f *fakeFleet) Health(_ context.Context, in plan.Instance) (poolpilot.Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.size[in.Name]
	return poolpilot.Health{Status: "ok", Pool: poolpilot.PoolStats{Max: s.Max, Min: s.Min, Total: s.Min}}, nil
}

func threeInstancePlan(t *testing.T) *plan.Plan {
	o := plan.SeedInitOptions()
	o.HealthURLs = []string{"http://127.0.0.1:1/healthz", "http://127.0.0.1:2/healthz", "http://127.0.0.1:3/healthz"}
	p, _ := plantest.Init(t, o)
	p.Rollout.VerifyTimeout = poolpilot.Duration(5 * time.Second)
	return p
}

type harness struct {
	c     *Controller
	fleet *fakeFleet
	rec   *evidence.MemRecorder
	clock *fakeClock
	dir   string
}

func newHarness(t *testing.T, p *plan.Plan, dir string) *harness {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	clock := &fakeClock{now: time.Date(2026, 2, 1, 2, 30, 0, 0, time.UTC)}
	fleet := newFleet(p)
	rec := &evidence.MemRecorder{}
	c := &Controller{
		Plan: p, Journal: j, Driver: fleet, Prober: fleet, Recorder: rec, Clock: clock,
		Wait: func(ctx context.Context, d time.Duration) error { clock.Advance(d); return ctx.Err() },
	}
	return &harness{c: c, fleet: fleet, rec: rec, clock: clock, dir: dir}
}

func (h *harness) states() []State {
	var out []State
	for _, r := range h.c.Journal.Records() {
		if r.Kind == "state" {
			out = append(out, r.State)
		}
	}
	return out
}

func (h *harness) allAt(t *testing.T, want plan.PoolSize) {
	t.Helper()
	for name, s := range h.fleet.size {
		if s != want {
			t.Errorf("instance %s at %d:%d, want %d:%d", name, s.Max, s.Min, want.Max, want.Min)
		}
	}
}

func TestRunSucceeds(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	var soaked bool
	h.c.Phases.Soak = func(ctx context.Context) (Verdict, error) { soaked = true; return Verdict{}, nil }
	out, err := h.c.Run(context.Background())
	if err != nil || out.State != StateSucceeded {
		t.Fatalf("outcome %+v err %v", out, err)
	}
	if got := fmt.Sprint(h.states()); got != fmt.Sprint(Forward) {
		t.Errorf("states %s, want %s", got, fmt.Sprint(Forward))
	}
	h.allAt(t, p.Change.To)
	if !soaked {
		t.Error("soak not run")
	}
	for _, f := range []string{"config_diff.txt", "deployment_log.txt", "post_change_config.json"} {
		if h.rec.File(f) == "" {
			t.Errorf("evidence %s not written", f)
		}
	}
	if !strings.Contains(h.rec.File("config_diff.txt"), "+DB_POOL_MAX=200") {
		t.Errorf("config diff: %s", h.rec.File("config_diff.txt"))
	}
}

func TestRefusals(t *testing.T) {
	cases := map[string]func(*harness){
		"preflight": func(h *harness) {
			h.c.Phases.Preflight = func(context.Context) (PreflightVerdict, error) {
				return refused("connection_budget: 203 > 97"), nil
			}
		},
		"approval": func(h *harness) {
			h.c.Phases.Approvals = func(context.Context) error { return errors.New("plan changed after approval") }
		},
		"window": func(h *harness) {
			h.c.Phases.Window = func(time.Time) error { return errors.New("outside 02:00-06:00 UTC") }
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			p := threeInstancePlan(t)
			h := newHarness(t, p, "")
			setup(h)
			out, err := h.c.Run(context.Background())
			if err != nil || out.State != StateRefused || !strings.Contains(out.Reason, name) {
				t.Fatalf("outcome %+v err %v", out, err)
			}
			if len(h.fleet.calls) != 0 {
				t.Errorf("instances changed on refusal: %v", h.fleet.calls)
			}
		})
	}
}

func TestTriggerDuringSoakRollsBack(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	h.c.Phases.Soak = func(context.Context) (Verdict, error) {
		return Verdict{Rollback: true, Criterion: "error_rate_high", Class: "P0", Reason: "error_rate 0.05 > 0.01 for 5m"}, nil
	}
	var notes []string
	h.c.Notify = func(_ context.Context, ev, text string) error { notes = append(notes, ev); return nil }
	out, err := h.c.Run(context.Background())
	if err != nil || out.State != StateRolledBack || !strings.Contains(out.Reason, "error_rate_high") {
		t.Fatalf("outcome %+v err %v", out, err)
	}
	h.allAt(t, p.Change.From)
	if !strings.Contains(strings.Join(notes, ","), "rollback") || !strings.Contains(strings.Join(notes, ","), "incident") {
		t.Errorf("notifications %v", notes)
	}
}

func TestApplyFailureRollsBackTouchedInstances(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	h.fleet.failOn["instance-2"] = 1 // first apply fails, rollback apply works
	out, err := h.c.Run(context.Background())
	if err != nil || out.State != StateRolledBack {
		t.Fatalf("outcome %+v err %v", out, err)
	}
	h.allAt(t, p.Change.From)
	if h.fleet.applies["instance-3"] != 0 {
		t.Errorf("instance-3 was changed after instance-2 failed")
	}
}

func TestVerifyTimeoutRollsBack(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	h.fleet.stuck["instance-3"] = true
	out, _ := h.c.Run(context.Background())
	if out.State != StateRolledBack || !strings.Contains(out.Reason, "instance-3 reports max 10") {
		t.Fatalf("outcome %+v", out)
	}
}

func TestRollbackFailurePages(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	h.c.Phases.Soak = func(context.Context) (Verdict, error) {
		return Verdict{Rollback: true, Criterion: "x", Reason: "y"}, nil
	}
	h.fleet.failOn["instance-1"] = 2 // the rollback apply fails
	var page string
	h.c.Notify = func(_ context.Context, ev, text string) error {
		if ev == "rollback_failed" {
			page = text
		}
		return nil
	}
	out, _ := h.c.Run(context.Background())
	if out.State != StateRollbackFailed || !strings.Contains(page, "ROLLBACK FAILED") {
		t.Fatalf("outcome %+v page %q", out, page)
	}
}

func TestRollbackCompletesWhenCancelled(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	ctx, cancel := context.WithCancel(context.Background())
	h.c.Phases.Soak = func(ctx context.Context) (Verdict, error) { cancel(); <-ctx.Done(); return Verdict{}, ctx.Err() }
	out, err := h.c.Run(ctx)
	if err != nil || out.State != StateRolledBack {
		t.Fatalf("outcome %+v err %v", out, err)
	}
	h.allAt(t, p.Change.From)
}

func TestResumeAfterCrashInSoak(t *testing.T) {
	p := threeInstancePlan(t)
	dir := t.TempDir()
	h := newHarness(t, p, dir)
	// Write the journal as a run killed during the soak leaves it.
	j := h.c.Journal
	now := h.clock.Now()
	for _, s := range Forward[:8] { // preflight … soak
		j.Append(Record{Kind: "state", State: s}, now)
		if s == StateApplying {
			for _, in := range p.Instances {
				j.Append(Record{Kind: "apply", Instance: in.Name, Max: 200, Min: 20}, now)
				j.Append(Record{Kind: "applied", Instance: in.Name, Max: 200, Min: 20}, now)
				h.fleet.size[in.Name] = p.Change.To
			}
		}
	}
	j.Close()
	h2 := newHarness(t, p, dir)
	h2.fleet = h.fleet
	h2.c.Driver, h2.c.Prober = h.fleet, h.fleet
	soaks := 0
	h2.c.Phases.Soak = func(context.Context) (Verdict, error) { soaks++; return Verdict{}, nil }
	out, err := h2.c.Run(context.Background())
	if err != nil || out.State != StateSucceeded || soaks != 1 {
		t.Fatalf("resume: outcome %+v err %v soaks %d", out, err, soaks)
	}
	if len(h.fleet.calls) != 0 {
		t.Errorf("resume re-applied: %v", h.fleet.calls)
	}
	h2.allAt(t, p.Change.To)
}

func TestResumeDuringApplyAndRollback(t *testing.T) {
	for _, last := range []State{StateApplying, StateRollingBack} {
		t.Run(string(last), func(t *testing.T) {
			p := threeInstancePlan(t)
			dir := t.TempDir()
			h := newHarness(t, p, dir)
			j := h.c.Journal
			now := h.clock.Now()
			for _, s := range Forward[:5] {
				j.Append(Record{Kind: "state", State: s}, now)
			}
			// instance-1 applied, instance-2 intent only (crash inside the driver call)
			j.Append(Record{Kind: "apply", Instance: "instance-1", Max: 200, Min: 20}, now)
			j.Append(Record{Kind: "applied", Instance: "instance-1", Max: 200, Min: 20}, now)
			j.Append(Record{Kind: "apply", Instance: "instance-2", Max: 200, Min: 20}, now)
			h.fleet.size["instance-1"] = p.Change.To
			h.fleet.size["instance-2"] = p.Change.To
			want := p.Change.To
			if last == StateRollingBack {
				j.Append(Record{Kind: "state", State: StateRollingBack, Reason: "error_rate_high"}, now)
				want = p.Change.From
			}
			j.Close()
			h2 := newHarness(t, p, dir)
			h2.fleet, h2.c.Driver, h2.c.Prober = h.fleet, h.fleet, h.fleet
			out, err := h2.c.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if last == StateRollingBack && out.State != StateRolledBack {
				t.Fatalf("outcome %+v", out)
			}
			if last == StateApplying && out.State != StateSucceeded {
				t.Fatalf("outcome %+v", out)
			}
			h2.allAt(t, want)
			if last == StateRollingBack && h.fleet.applies["instance-3"] != 0 {
				t.Errorf("rollback touched instance-3 which was never changed")
			}
		})
	}
}

// An instance the driver cannot reach at all (its admin API is down) but
// whose /healthz still shows change.from was never changed: the rollback
// counts it as restored instead of failing.
func TestUnreachableInstanceAtFromDoesNotFailRollback(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	h.fleet.failOn["instance-2"] = -1
	out, err := h.c.Run(context.Background())
	if err != nil || out.State != StateRolledBack {
		t.Fatalf("outcome %+v err %v", out, err)
	}
	h.allAt(t, p.Change.From)
	found := false
	for _, ev := range h.rec.Events() {
		found = found || ev == "rollback_not_needed"
	}
	if !found {
		t.Errorf("no rollback_not_needed event in %v", h.rec.Events())
	}
}

// failingRecorder loses every evidence file once full is set.
type failingRecorder struct {
	evidence.MemRecorder
	full bool
}

func (r *failingRecorder) WriteFile(name string, data []byte) error {
	if r.full {
		return errors.New("write " + name + ": no space left on device")
	}
	return r.MemRecorder.WriteFile(name, data)
}

// A change must not stand, nor be refused silently, without its evidence.
func TestEvidenceLossRollsBackOrRefuses(t *testing.T) {
	for _, tc := range []struct {
		fullAt State
		want   State
	}{{StateLoadTest, StateRolledBack}, {StateBaseline, StateRefused}} {
		t.Run(string(tc.fullAt), func(t *testing.T) {
			p := threeInstancePlan(t)
			h := newHarness(t, p, "")
			rec := &failingRecorder{}
			h.c.Recorder = rec
			h.c.Phases.Baseline = func(context.Context) error {
				if tc.fullAt == StateBaseline {
					rec.full = true
					h.c.writeFile("pre_change_metrics.json", []byte("{}"))
				}
				return nil
			}
			h.c.Phases.LoadTest = func(context.Context) (Verdict, error) {
				if tc.fullAt == StateLoadTest {
					rec.full = true
					h.c.writeFile("synthetic_load_test_results.json", []byte("{}"))
				}
				return Verdict{}, nil
			}
			out, err := h.c.Run(context.Background())
			if err != nil || out.State != tc.want || !strings.Contains(out.Reason, "evidence not written") || !strings.Contains(out.Reason, "no space left") {
				t.Fatalf("outcome %+v err %v", out, err)
			}
			h.allAt(t, p.Change.From)
		})
	}
}

// refused is a preflight that did not pass (package preflight's Report
// in a run).
type refused string

func (refused) Passed() bool      { return false }
func (r refused) Refusal() string { return string(r) }
