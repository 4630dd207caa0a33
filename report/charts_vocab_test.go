package report

import (
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
)

// Criteria written by the runner name pool metrics as the criteria engine
// does ("pool.utilization"); their thresholds must still be drawn.
func TestChartsMatchCriteriaVocabulary(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	now := time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)
	m := &Model{}
	m.Files.Monitoring = &evidence.SustainedMonitoring{
		Samples: []evidence.Sample{{Time: now, Utilization: f(0.2), WaitP95MS: f(1)}},
		Criteria: []evidence.CriterionResult{
			{Name: "pool_utilization", Role: "success", Metric: "pool.utilization", Op: "<", Threshold: f(0.7)},
			{Name: "pool_wait_p95", Role: "success", Metric: "pool.wait_p95_ms", Op: "<", Threshold: f(10)},
			{Name: "pool_saturation", Role: "rollback", Metric: "pool.utilization", Op: ">", Threshold: f(0.9)},
		},
	}
	got := map[string]int{}
	for _, c := range m.Charts() {
		got[c.ID] = len(c.Chart.Thresholds)
	}
	if got["utilization"] != 2 || got["wait_p95"] != 1 {
		t.Errorf("thresholds per chart %v, want utilization 2, wait_p95 1", got)
	}
}
