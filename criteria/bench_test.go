package criteria

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
)

// fleet500 is an engine holding a full default retention window (10
// minutes at one sample a second) of three per-instance metrics of 500
// instances — what a 500-instance soak that reads every /healthz holds
// (docs/scaling.md, section 5) — and a reusable batch of one second of
// samples.
type fleet500 struct {
	clk   *fakeClock
	e     *Engine
	batch []poolpilot.Sample
}

func newFleet500(tb testing.TB) *fleet500 {
	tb.Helper()
	clk := newClock()
	specs := []poolpilot.CriterionSpec{
		trigger("error-rate-high", "error_rate > 0.01", poolpilot.ClassP0, 5*time.Minute),
		trigger("latency-p95-high", "latency_p95_ms > 1000", poolpilot.ClassP1, 5*time.Minute),
		{Name: "pool-utilization", Expr: "pool.utilization < 0.7", Role: poolpilot.RoleSuccess},
	}
	e, err := New(specs, Options{Clock: clk, Interval: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	f := &fleet500{clk: clk, e: e}
	for i := range 500 {
		in := fmt.Sprintf("10.0.%d.%d:8080", i/250, i%250+1)
		f.batch = append(f.batch,
			poolpilot.Sample{Metric: "error_rate", Instance: in, Value: 0.001},
			poolpilot.Sample{Metric: "latency_p95_ms", Instance: in, Value: 40},
			poolpilot.Sample{Metric: "pool.utilization", Instance: in, Value: 0.3})
	}
	for range 600 {
		f.second()
	}
	e.Evaluate()
	return f
}

// second advances the clock one second and observes one sample of every
// series.
func (f *fleet500) second() {
	f.clk.Advance(time.Second)
	now := f.clk.Now()
	for i := range f.batch {
		f.batch[i].Time = now
	}
	f.e.Observe(f.batch...)
}

// BenchmarkEvaluate500 is one steady-state evaluation second of a
// 500-instance soak: 1500 new samples observed, then one evaluation over
// 500 instances × 3 metrics × 10 minutes (900 000 stored samples).
//
//	go test -run - -bench Evaluate500 -benchmem -count 5 ./criteria/
func BenchmarkEvaluate500(b *testing.B) {
	f := newFleet500(b)
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		f.second()
		f.e.Evaluate()
		n++
	}
	// CPU time of the process (GC included) per op: on a shared machine
	// ns/op measures the neighbours as much as the engine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(n), "cpu-ms/op")
	// The heap the engine keeps, at steady state.
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "live-heap-MiB")
	b.ReportMetric(float64(m.HeapSys)/(1<<20), "heap-sys-MiB")
	runtime.KeepAlive(f)
}

// cpuTime is the user + system time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
