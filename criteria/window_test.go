package criteria

import (
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
)

// TestSeriesBoundedWithoutEvaluate observes one sample a second for three
// hours without evaluating (the runner's sources keep polling during an
// apply, when nothing evaluates): each series must stay within what the
// retention needs, where the copy-based engine kept all 10 800 samples.
func TestSeriesBoundedWithoutEvaluate(t *testing.T) {
	r := newRig(t, Options{}, trigger("err", "error_rate > 0.01", poolpilot.ClassP1, 5*time.Minute))
	ret := r.e.Options().Retention
	need := int(ret/time.Second) + 1 // samples within the retention at one a second
	limit := bound(need, need)
	for i := range 3 * 3600 {
		r.clk.Advance(time.Second)
		r.e.Observe(poolpilot.Sample{Metric: "error_rate", Instance: "a", Time: r.clk.Now(), Value: float64(i % 2)},
			poolpilot.Sample{Metric: "error_rate", Instance: "b", Time: r.clk.Now(), Gap: true})
		if i%60 != 59 {
			continue
		}
		for _, s := range r.e.Series() {
			if len(s.Samples) > limit {
				t.Fatalf("after %s without an evaluation %s/%s holds %d samples; the retention %s needs %d (limit %d)",
					time.Duration(i+1)*time.Second, s.Metric, s.Instance, len(s.Samples), ret, need, limit)
			}
		}
		for k, w := range r.e.series {
			if cap(w.buf) > limit {
				t.Fatalf("%v: buffer of %d samples, limit %d", k, cap(w.buf), limit)
			}
		}
	}
	// An evaluation then keeps exactly the retention.
	r.e.Evaluate()
	for _, s := range r.e.Series() {
		if len(s.Samples) != need {
			t.Fatalf("%s/%s: %d samples after an evaluation, want %d", s.Metric, s.Instance, len(s.Samples), need)
		}
	}
}

// TestEvaluateAllocatesNoWindowCopy: at steady state an evaluation
// allocates its result, not a copy of the stored samples — the same few
// KiB with 30 minutes of samples as with one minute.
func TestEvaluateAllocatesNoWindowCopy(t *testing.T) {
	perEval := func(ret time.Duration) float64 {
		r := newRig(t, Options{Retention: ret}, trigger("err", "error_rate > 0.01", poolpilot.ClassP1, time.Minute),
			poolpilot.CriterionSpec{Name: "fleet", Expr: "error_rate < 0.5", Role: poolpilot.RoleSuccess, Scope: poolpilot.ScopeFleet})
		step := func() {
			r.clk.Advance(time.Second)
			now := r.clk.Now()
			r.e.Observe(poolpilot.Sample{Metric: "error_rate", Instance: "a", Time: now, Value: 0.02},
				poolpilot.Sample{Metric: "error_rate", Instance: "b", Time: now, Value: 0})
			r.e.Evaluate()
		}
		for range int(ret/time.Second) + 100 { // full, and past the first moves
			step()
		}
		const n = 300
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		for range n {
			step()
		}
		runtime.ReadMemStats(&m1)
		return float64(m1.TotalAlloc-m0.TotalAlloc) / n
	}
	short, long := perEval(time.Minute), perEval(30*time.Minute)
	// 30 minutes of two series is 3600 samples, 370 KB per copy.
	if long > 2*short+1024 {
		t.Fatalf("an evaluation over 30 min of samples allocates %.0f B, over 1 min %.0f B: the stored samples are copied", long, short)
	}
	t.Logf("bytes allocated per observe+evaluate: %.0f (1 min retention), %.0f (30 min)", short, long)
}

// TestBaselineWindowExtendsRetention: a 15-minute baseline is measured
// over 15 minutes, not over the default 10-minute retention.
func TestBaselineWindowExtendsRetention(t *testing.T) {
	spec := trigger("regress", "latency_p95_ms > baseline * 2", poolpilot.ClassP1, time.Minute)
	for _, tc := range []struct {
		window time.Duration
		want   float64
	}{
		{0, 600 * 100.0 / 601},                // the last 10 minutes and one sample of 0
		{15 * time.Minute, 600 * 100.0 / 900}, // all 15 minutes
	} {
		r := newRig(t, Options{BaselineWindow: tc.window}, spec)
		// 5 minutes at 0, then 10 at 100.
		for i := range 15 * 60 {
			r.clk.Advance(time.Second)
			v := 100.0
			if i < 5*60 {
				v = 0
			}
			r.e.Observe(poolpilot.Sample{Metric: "latency_p95_ms", Instance: "a", Time: r.clk.Now(), Value: v})
			r.e.Evaluate()
		}
		got, err := r.e.CaptureBaseline(15 * time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got["latency_p95_ms"]-tc.want) > 1e-9 {
			t.Fatalf("BaselineWindow %s: baseline %g, want %g", tc.window, got["latency_p95_ms"], tc.want)
		}
	}
}
