package monitor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/source"
)

type fakeSource struct{ errRate atomic.Value }

func (f *fakeSource) Name() string      { return "fake" }
func (f *fakeSource) Metrics() []string { return []string{"error_rate", "latency_p95_ms"} }
func (f *fakeSource) Collect(context.Context) ([]poolpilot.Sample, error) {
	now := time.Now()
	return []poolpilot.Sample{
		{Metric: "error_rate", Instance: "a", Time: now, Value: f.errRate.Load().(float64)},
		{Metric: "latency_p95_ms", Instance: "a", Time: now, Value: 12},
	}, nil
}

func TestRunRecordsSamplesAndStopsOnDecision(t *testing.T) {
	src := &fakeSource{}
	src.errRate.Store(0.0)
	eng, err := criteria.New([]poolpilot.CriterionSpec{
		{Name: "err_high", Role: poolpilot.RoleRollback, Class: poolpilot.ClassP0, Expr: "error_rate > 0.01", For: poolpilot.Duration(200 * time.Millisecond), Scope: poolpilot.ScopeInstance},
	}, criteria.Options{Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m := Start(context.Background(), eng, []source.Source{src}, Options{Interval: 50 * time.Millisecond})
	defer m.Stop()
	if err := m.Run(context.Background(), 200*time.Millisecond, func(criteria.Evaluation) bool { return false }); err != nil {
		t.Fatal(err)
	}
	ss := m.Samples()
	if len(ss) < 3 || ss[len(ss)-1].LatencyP95MS == nil || *ss[len(ss)-1].LatencyP95MS != 12 || ss[len(ss)-1].States["err_high"] != "ok" {
		t.Fatalf("samples %d, last %+v", len(ss), ss[len(ss)-1])
	}
	src.errRate.Store(0.5)
	var dec *criteria.Decision
	err = m.Run(context.Background(), 5*time.Second, func(ev criteria.Evaluation) bool { dec = ev.Decision; return dec != nil })
	if err != nil || dec == nil || dec.Criterion != "err_high" {
		t.Fatalf("decision %+v, err %v", dec, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Run(ctx, time.Second, func(criteria.Evaluation) bool { return false }); err == nil {
		t.Fatal("a cancelled Run returned nil")
	}
}
