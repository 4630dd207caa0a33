package criteria

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type rig struct {
	t   *testing.T
	clk *fakeClock
	e   *Engine
}

func newRig(t *testing.T, opts Options, specs ...poolpilot.CriterionSpec) *rig {
	t.Helper()
	clk := newClock()
	opts.Clock = clk
	e, err := New(specs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, clk: clk, e: e}
}

// tick advances one second, observes metric=v on each instance (a gap when
// v is nil) and evaluates.
func (r *rig) tick(metric string, v *float64, instances ...string) Evaluation {
	r.clk.Advance(time.Second)
	if len(instances) == 0 {
		instances = []string{"a"}
	}
	for _, in := range instances {
		s := poolpilot.Sample{Metric: metric, Instance: in, Time: r.clk.Now()}
		if v == nil {
			s.Gap, s.Reason = true, "poll failed"
		} else {
			s.Value = *v
		}
		r.e.Observe(s)
	}
	return r.e.Evaluate()
}

func f(v float64) *float64 { return &v }

func trigger(name, expr, class string, d time.Duration) poolpilot.CriterionSpec {
	return poolpilot.CriterionSpec{Name: name, Expr: expr, Role: poolpilot.RoleRollback, Class: class, For: poolpilot.Duration(d)}
}

func want(t *testing.T, ev Evaluation, name string, st State) Result {
	t.Helper()
	for _, r := range ev.Results {
		if r.Name == name {
			if r.State != st {
				t.Fatalf("at %s: %s is %s (%s), want %s", ev.Time.Format("15:04:05"), name, r.State, r.Reason, st)
			}
			return r
		}
	}
	t.Fatalf("no result for %s", name)
	return Result{}
}

func TestBlipShorterThanWindowDoesNotFire(t *testing.T) {
	r := newRig(t, Options{}, trigger("err", "error_rate > 0.01", "P1", 5*time.Second))
	want(t, r.tick("error_rate", f(0)), "err", StateOK)
	for i := 0; i < 5; i++ { // held 0..4 s
		res := want(t, r.tick("error_rate", f(0.05)), "err", StatePending)
		if res.HeldS != float64(i) || res.LeftS != float64(5-i) {
			t.Fatalf("tick %d: held %v left %v", i, res.HeldS, res.LeftS)
		}
	}
	want(t, r.tick("error_rate", f(0.001)), "err", StateOK)
	for i := 0; i < 5; i++ {
		want(t, r.tick("error_rate", f(0.05)), "err", StatePending)
	}
	if r.e.Decision() != nil {
		t.Fatalf("decision after blips: %+v", r.e.Decision())
	}
}

func TestBreachOfExactlyTheWindowFires(t *testing.T) {
	r := newRig(t, Options{}, trigger("err", "error_rate > 0.01", "P1", 5*time.Second))
	start := r.clk.Now().Add(time.Second)
	for i := 0; i < 5; i++ {
		want(t, r.tick("error_rate", f(0.05)), "err", StatePending)
	}
	ev := r.tick("error_rate", f(0.05)) // 5 s after the first breaching sample
	res := want(t, ev, "err", StateFiring)
	if res.HeldS != 5 || !res.Since.Equal(start) || res.Instance != "a" {
		t.Fatalf("firing result %+v", res)
	}
	d := ev.Decision
	if d == nil || d.Criterion != "err" || d.Instance != "a" || len(d.Evidence) != 6 || *d.Value != 0.05 {
		t.Fatalf("decision %+v", d)
	}
	for _, s := range d.Evidence {
		if s.Value != 0.05 || s.Metric != "error_rate" {
			t.Fatalf("evidence sample %+v", s)
		}
	}
	// Latched: recovery does not clear the decision.
	ev = r.tick("error_rate", f(0))
	want(t, ev, "err", StateOK)
	if ev.Decision == nil || ev.Decision.Criterion != "err" {
		t.Fatalf("decision not latched: %+v", ev.Decision)
	}
}

func TestGapMakesInconclusiveAndDataReturningResetsPending(t *testing.T) {
	r := newRig(t, Options{}, trigger("err", "error_rate > 0.01", "P1", 5*time.Second))
	for i := 0; i < 4; i++ {
		want(t, r.tick("error_rate", f(0.05)), "err", StatePending)
	}
	res := want(t, r.tick("error_rate", nil), "err", StateInconclusive)
	if !strings.Contains(res.Reason, "poll failed") {
		t.Fatalf("reason %q", res.Reason)
	}
	// Data returns, still breaching: pending starts again from zero.
	res = want(t, r.tick("error_rate", f(0.05)), "err", StatePending)
	if res.HeldS != 0 || res.LeftS != 5 {
		t.Fatalf("after the gap: held %v left %v, want 0 and 5", res.HeldS, res.LeftS)
	}
	for i := 0; i < 4; i++ {
		want(t, r.tick("error_rate", f(0.05)), "err", StatePending)
	}
	want(t, r.tick("error_rate", f(0.05)), "err", StateFiring)
}

func TestStaleSourceIsInconclusiveAndASilentGapResets(t *testing.T) {
	r := newRig(t, Options{Interval: time.Second}, trigger("err", "error_rate > 0.01", "P1", 10*time.Second))
	for i := 0; i < 3; i++ {
		want(t, r.tick("error_rate", f(0.05)), "err", StatePending)
	}
	// The source goes silent: nothing observed for 4 s (> Stale 3 s).
	for i := 0; i < 4; i++ {
		r.clk.Advance(time.Second)
		ev := r.e.Evaluate()
		if i < 3 {
			want(t, ev, "err", StatePending) // newest sample at most Stale old
		} else {
			res := want(t, ev, "err", StateInconclusive)
			if !strings.Contains(res.Reason, "stale") {
				t.Fatalf("reason %q", res.Reason)
			}
		}
	}
	res := want(t, r.tick("error_rate", f(0.05)), "err", StatePending)
	if res.HeldS != 0 {
		t.Fatalf("pending survived a 5 s silence: held %v", res.HeldS)
	}
}

func TestInconclusiveBeyondMaxInconclusiveFires(t *testing.T) {
	spec := trigger("err", "error_rate > 0.01", "P1", time.Minute)
	spec.MaxInconclusive = poolpilot.Duration(5 * time.Second)
	r := newRig(t, Options{MaxInconclusive: time.Hour}, spec)
	want(t, r.tick("error_rate", f(0)), "err", StateOK)
	last := r.clk.Now()
	for i := 1; i < 5; i++ {
		res := want(t, r.tick("error_rate", nil), "err", StateInconclusive)
		if !res.Since.Equal(last) || res.HeldS != float64(i) {
			t.Fatalf("gap %d: since %v held %v", i, res.Since, res.HeldS)
		}
	}
	ev := r.tick("error_rate", nil)
	res := want(t, ev, "err", StateFiring)
	if !strings.Contains(res.Reason, "max_inconclusive") || ev.Decision == nil || len(ev.Decision.Evidence) != 1 {
		t.Fatalf("reason %q decision %+v", res.Reason, ev.Decision)
	}
}

func TestEngineDefaultMaxInconclusiveAndNoData(t *testing.T) {
	r := newRig(t, Options{MaxInconclusive: 3 * time.Second}, trigger("cpu", "db.cpu > 0.9", "P1", time.Minute))
	res := want(t, r.e.Evaluate(), "cpu", StateInconclusive)
	if !strings.Contains(res.Reason, "no data for db.cpu") {
		t.Fatalf("reason %q", res.Reason)
	}
	r.clk.Advance(3 * time.Second)
	want(t, r.e.Evaluate(), "cpu", StateFiring)

	never := newRig(t, Options{MaxInconclusive: -1}, trigger("cpu", "db.cpu > 0.9", "P1", time.Minute))
	never.clk.Advance(24 * time.Hour)
	want(t, never.e.Evaluate(), "cpu", StateInconclusive)
}

func TestP0FiresAtOnce(t *testing.T) {
	r := newRig(t, Options{},
		trigger("slow", "latency_p95_ms > 1000", "P1", 5*time.Second),
		trigger("integrity", "integrity_ok == 0", "P0", 0))
	r.tick("integrity_ok", f(1))
	for i := 0; i < 6; i++ {
		r.tick("latency_p95_ms", f(2000)) // slow fires at the 6th
	}
	r.clk.Advance(time.Second)
	r.e.Observe(poolpilot.Sample{Metric: "latency_p95_ms", Instance: "a", Time: r.clk.Now(), Value: 2000})
	r.e.Observe(poolpilot.Sample{Metric: "integrity_ok", Instance: "a", Time: r.clk.Now(), Value: 1})
	if d := r.e.Evaluate().Decision; d == nil || d.Criterion != "slow" {
		t.Fatalf("decision %+v, want slow", d)
	}

	r = newRig(t, Options{}, trigger("slow", "latency_p95_ms > 1000", "P1", 0), trigger("integrity", "integrity_ok == 0", "P0", 0))
	r.clk.Advance(time.Second)
	r.e.Observe(poolpilot.Sample{Metric: "latency_p95_ms", Instance: "a", Time: r.clk.Now(), Value: 2000},
		poolpilot.Sample{Metric: "integrity_ok", Instance: "a", Time: r.clk.Now(), Value: 0})
	ev := r.e.Evaluate()
	want(t, ev, "integrity", StateFiring)
	if ev.Decision == nil || ev.Decision.Criterion != "integrity" || ev.Decision.Class != "P0" {
		t.Fatalf("both fire at once: decision %+v, want the P0", ev.Decision)
	}
}

func TestInstanceScopeAnyInstanceFires(t *testing.T) {
	r := newRig(t, Options{}, trigger("err", "error_rate > 0.01", "P1", 2*time.Second))
	for i := 0; i < 3; i++ {
		r.clk.Advance(time.Second)
		now := r.clk.Now()
		r.e.Observe(poolpilot.Sample{Metric: "error_rate", Instance: "a", Time: now, Value: 0},
			poolpilot.Sample{Metric: "error_rate", Instance: "b", Time: now, Value: 0.5},
			poolpilot.Sample{Metric: "error_rate", Instance: "c", Time: now, Value: 0})
	}
	ev := r.e.Evaluate()
	res := want(t, ev, "err", StateFiring)
	if res.Instance != "b" || len(res.Instances) != 3 || res.Instances[0].State != StateOK || res.Instances[1].State != StateFiring {
		t.Fatalf("result %+v", res)
	}
	if ev.Decision.Instance != "b" {
		t.Fatalf("decision names %q, want b", ev.Decision.Instance)
	}
}

func TestFleetAggregate(t *testing.T) {
	spec := func(agg string) poolpilot.CriterionSpec {
		s := trigger("err-"+agg, "error_rate > 0.1", "P1", 2*time.Second)
		s.Scope, s.Aggregate = poolpilot.ScopeFleet, agg
		return s
	}
	r := newRig(t, Options{}, spec("avg"), spec("max"), spec("sum"), spec("min"))
	var ev Evaluation
	for i := 0; i < 3; i++ {
		r.clk.Advance(time.Second)
		now := r.clk.Now()
		r.e.Observe(poolpilot.Sample{Metric: "error_rate", Instance: "a", Time: now, Value: 0.04},
			poolpilot.Sample{Metric: "error_rate", Instance: "b", Time: now, Value: 0.15})
		ev = r.e.Evaluate()
	}
	want(t, ev, "err-avg", StateOK) // 0.095
	want(t, ev, "err-min", StateOK) // 0.04
	want(t, ev, "err-sum", StateFiring)
	res := want(t, ev, "err-max", StateFiring)
	if *res.Value != 0.15 || len(res.Instances) != 2 {
		t.Fatalf("max result %+v", res)
	}
	if ev.Decision == nil || ev.Decision.Criterion != "err-max" || ev.Decision.Evidence[0].Instance != "fleet:max" {
		t.Fatalf("decision %+v", ev.Decision)
	}
	// One instance goes silent: the aggregate is a gap, not a partial value.
	for i := 0; i < 4; i++ {
		r.clk.Advance(time.Second)
		r.e.Observe(poolpilot.Sample{Metric: "error_rate", Instance: "b", Time: r.clk.Now(), Value: 0.15})
		ev = r.e.Evaluate()
	}
	res = want(t, ev, "err-sum", StateInconclusive)
	if !strings.Contains(res.Reason, "no fresh data from [a]") {
		t.Fatalf("reason %q", res.Reason)
	}
	// a returns: pending restarts.
	r.clk.Advance(time.Second)
	now := r.clk.Now()
	r.e.Observe(poolpilot.Sample{Metric: "error_rate", Instance: "a", Time: now, Value: 0.04},
		poolpilot.Sample{Metric: "error_rate", Instance: "b", Time: now, Value: 0.15})
	if res := want(t, r.e.Evaluate(), "err-sum", StatePending); res.HeldS != 0 {
		t.Fatalf("held %v", res.HeldS)
	}
}

func success(name, expr string) poolpilot.CriterionSpec {
	return poolpilot.CriterionSpec{Name: name, Expr: expr, Role: poolpilot.RoleSuccess}
}

func TestSuccessVerdict(t *testing.T) {
	r := newRig(t, Options{SuccessWindow: 5 * time.Second}, success("max", "pool.max == 200"), success("util", "pool.utilization < 0.7"))
	step := func(max, util float64) Evaluation {
		r.clk.Advance(time.Second)
		now := r.clk.Now()
		r.e.Observe(poolpilot.Sample{Metric: "pool.max", Instance: "a", Time: now, Value: max},
			poolpilot.Sample{Metric: "pool.utilization", Instance: "a", Time: now, Value: util})
		return r.e.Evaluate()
	}
	ev := step(10, 0.2)
	want(t, ev, "max", StateFiring) // a success criterion with no window fires at its first breach
	if ev.Verdict.Success || len(ev.Verdict.Failing) != 1 || ev.Verdict.Failing[0] != "max" {
		t.Fatalf("verdict %+v", ev.Verdict)
	}
	for i := 0; i < 5; i++ {
		if ev = step(200, 0.2); ev.Verdict.Success {
			t.Fatalf("success after %d s: %+v", i, ev.Verdict)
		}
	}
	if ev = step(200, 0.2); !ev.Verdict.Success || ev.Verdict.HeldS != 5 {
		t.Fatalf("verdict after 5 s all ok: %+v", ev.Verdict)
	}
	if ev = step(200, 0.8); ev.Verdict.Success || ev.Verdict.Failing[0] != "util" {
		t.Fatalf("verdict after a breach: %+v", ev.Verdict)
	}
	if ev = step(200, 0.2); ev.Verdict.Success || ev.Verdict.HeldS != 0 {
		t.Fatalf("the breach did not reset the window: %+v", ev.Verdict)
	}
	if ev.Decision != nil {
		t.Fatalf("a success criterion made a rollback decision: %+v", ev.Decision)
	}
}

func TestBaselineRelative(t *testing.T) {
	r := newRig(t, Options{}, trigger("regress", "latency_p95_ms > baseline * 1.2", "P1", 2*time.Second))
	res := want(t, r.tick("latency_p95_ms", f(100)), "regress", StateInconclusive)
	if !strings.Contains(res.Reason, "no baseline for latency_p95_ms") {
		t.Fatalf("reason %q", res.Reason)
	}
	r.tick("latency_p95_ms", f(110))
	r.tick("latency_p95_ms", f(90))
	base, err := r.e.CaptureBaseline(10 * time.Second)
	if err != nil || base["latency_p95_ms"] != 100 {
		t.Fatalf("baseline %v %v", base, err)
	}
	res = want(t, r.tick("latency_p95_ms", f(119)), "regress", StateOK)
	if *res.Threshold != 120 {
		t.Fatalf("threshold %v", *res.Threshold)
	}
	want(t, r.tick("latency_p95_ms", f(121)), "regress", StatePending)

	empty := newRig(t, Options{}, trigger("regress", "latency_p95_ms > baseline + 50", "P1", 0))
	if _, err := empty.e.CaptureBaseline(time.Minute); err == nil || !strings.Contains(err.Error(), `baseline of latency_p95_ms (criterion "regress")`) {
		t.Fatalf("capture without samples: %v", err)
	}
}

func TestObserveOutOfOrderAndNonFinite(t *testing.T) {
	r := newRig(t, Options{}, trigger("err", "error_rate > 0.01", "P1", 2*time.Second))
	now := r.clk.Now()
	r.clk.Advance(2 * time.Second)
	r.e.Observe(poolpilot.Sample{Metric: "error_rate", Time: now.Add(2 * time.Second), Value: 0.5},
		poolpilot.Sample{Metric: "error_rate", Time: now, Value: 0.5},
		poolpilot.Sample{Metric: "error_rate", Time: now.Add(time.Second), Value: 0.5})
	want(t, r.e.Evaluate(), "err", StateFiring)
	r.clk.Advance(time.Second)
	nan := 0.0
	r.e.Observe(poolpilot.Sample{Metric: "error_rate", Time: r.clk.Now(), Value: nan / nan})
	res := want(t, r.e.Evaluate(), "err", StateInconclusive)
	if !strings.Contains(res.Reason, "not a finite number") {
		t.Fatalf("reason %q", res.Reason)
	}
}

func TestRetentionPrunes(t *testing.T) {
	r := newRig(t, Options{Retention: 5 * time.Second}, trigger("err", "error_rate > 0.01", "P1", time.Minute))
	for i := 0; i < 20; i++ {
		r.tick("error_rate", f(0))
	}
	if s := r.e.Series(); len(s) != 1 || len(s[0].Samples) > 6 {
		t.Fatalf("series not pruned: %d samples", len(s[0].Samples))
	}
}
