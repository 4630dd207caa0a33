package sim

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
)

// engine500 is the criteria engine holding a full retention window (10
// minutes at one sample a second) of three per-instance metrics of 500
// instances — what a 500-instance soak that reads every /healthz holds.
func engine500(tb testing.TB) (*criteria.Engine, *Clock, []string) {
	clock := NewClock(time.Date(2026, 2, 1, 2, 30, 0, 0, time.UTC))
	specs := []poolpilot.CriterionSpec{
		{Name: "error-rate-high", Expr: "error_rate > 0.01", Role: poolpilot.RoleRollback, Class: poolpilot.ClassP0, For: poolpilot.Duration(5 * time.Minute)},
		{Name: "latency-p95-high", Expr: "latency_p95_ms > 1000", Role: poolpilot.RoleRollback, Class: poolpilot.ClassP1, For: poolpilot.Duration(5 * time.Minute)},
		{Name: "pool-utilization", Expr: "pool.utilization < 0.7", Role: poolpilot.RoleSuccess},
	}
	eng, err := criteria.New(specs, criteria.Options{Clock: clock, Interval: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	insts := make([]string, 500)
	for i := range insts {
		insts[i] = fmt.Sprintf("10.0.%d.%d:8080", i/250, i%250+1)
	}
	for s := 0; s < 600; s++ {
		observeSecond(eng, clock, insts)
	}
	eng.Evaluate()
	return eng, clock, insts
}

func observeSecond(eng *criteria.Engine, clock *Clock, insts []string) {
	clock.Advance(time.Second)
	now := clock.Now()
	batch := make([]poolpilot.Sample, 0, 3*len(insts))
	for _, in := range insts {
		batch = append(batch,
			poolpilot.Sample{Metric: "error_rate", Instance: in, Time: now, Value: 0.001},
			poolpilot.Sample{Metric: "latency_p95_ms", Instance: in, Time: now, Value: 40},
			poolpilot.Sample{Metric: "pool.utilization", Instance: in, Time: now, Value: 0.3})
	}
	eng.Observe(batch...)
}

// BenchmarkEngine500 is one evaluation second at steady state:
// go test -run - -bench Engine500 -benchmem ./sim/
func BenchmarkEngine500(b *testing.B) {
	eng, clock, insts := engine500(b)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	heap := float64(m.HeapAlloc) / (1 << 20)
	for b.Loop() {
		observeSecond(eng, clock, insts)
		eng.Evaluate()
	}
	b.ReportMetric(heap, "live-heap-MiB")
}
