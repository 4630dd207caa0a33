package report

import (
	"fmt"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/chart"
	"github.com/poolpilot/poolpilot/evidence"
)

// NamedChart is one chart of the report.
type NamedChart struct {
	ID    string // file-name friendly: latency_p95, error_rate, utilization, wait_p95
	Title string
	Chart chart.Chart
}

// ChartSpec says how to draw one monitored metric: the report's charts
// and the dashboard's are drawn from the same specs.
type ChartSpec struct {
	ID, Title, Unit string
	Scale           float64 // a value is shown multiplied by it (100: %)
	// Metric is the evidence sample's name; Vocab the criteria
	// vocabulary's, which criteria name.
	Metric, Vocab string
	Get           func(evidence.Sample) *float64
}

// Draws reports whether a criterion on metric draws its threshold on the
// chart.
func (sp ChartSpec) Draws(metric string) bool { return metric == sp.Metric || metric == sp.Vocab }

// ChartSpecs are the four charts of a run: latency p95, error rate, pool
// utilization, pool wait p95.
var ChartSpecs = []ChartSpec{
	{"latency_p95", "Latency p95", " ms", 1, evidence.MetricLatencyP95, poolpilot.MetricLatencyP95, func(s evidence.Sample) *float64 { return s.LatencyP95MS }},
	{"error_rate", "Error rate", "%", 100, evidence.MetricErrorRate, poolpilot.MetricErrorRate, func(s evidence.Sample) *float64 { return s.ErrorRate }},
	{"utilization", "Pool utilization", "%", 100, evidence.MetricUtilization, poolpilot.MetricPoolUtilization, func(s evidence.Sample) *float64 { return s.Utilization }},
	{"wait_p95", "Pool wait p95", " ms", 1, evidence.MetricWaitP95, poolpilot.MetricPoolWaitP95, func(s evidence.Sample) *float64 { return s.WaitP95MS }},
}

// SampleGetter is the sample field a criterion metric is charted from
// (nil: not charted).
func SampleGetter(metric string) func(evidence.Sample) *float64 {
	for _, sp := range ChartSpecs {
		if sp.Draws(metric) {
			return sp.Get
		}
	}
	return nil
}

// Charts builds the report's four charts from sustained_monitoring.json
// and the audit log; nil when there is no monitoring file.
func (m *Model) Charts() []NamedChart {
	mon := m.Files.Monitoring
	if mon == nil || len(mon.Samples) == 0 {
		return nil
	}
	marks := m.marks()
	var out []NamedChart
	for _, sp := range ChartSpecs {
		pts := make([]chart.Point, 0, len(mon.Samples))
		for _, s := range mon.Samples {
			v := sp.Get(s)
			p := chart.Point{T: s.Time, Missing: v == nil}
			if v != nil {
				p.V = *v
			}
			pts = append(pts, p)
		}
		c := chart.Chart{Title: sp.Title, Unit: sp.Unit, Scale: sp.Scale, Marks: marks,
			Series: []chart.Series{{Name: sp.Title, Points: pts}}}
		for _, cr := range mon.Criteria {
			// Criteria name pool metrics in the criteria vocabulary
			// (poolpilot.MetricPoolUtilization); the evidence samples
			// drop the "pool." prefix.
			if !sp.Draws(cr.Metric) || cr.Threshold == nil {
				continue
			}
			kind := chart.KindSuccess
			if cr.Role == "rollback" {
				kind = chart.KindRollback
			}
			label := fmt.Sprintf("%s %s %s%s", cr.Role, cr.Op, trimFloat(*cr.Threshold*sp.Scale), sp.Unit)
			if cr.For != "" {
				label += " for " + cr.For
			}
			c.Thresholds = append(c.Thresholds, chart.Threshold{Value: *cr.Threshold, Label: label, Kind: kind})
		}
		out = append(out, NamedChart{ID: sp.ID, Title: sp.Title, Chart: c})
	}
	return out
}

func trimFloat(v float64) string { return fmt.Sprintf("%g", v) }

// marks are the audit events drawn on every chart.
func (m *Model) marks() []chart.Mark {
	var ms []chart.Mark
	dec := evidence.NewDecoder(m.Lines)
	for _, l := range m.Lines {
		switch l.Event {
		case evidence.EventStateChange:
			sc, _ := dec.StateChange(l)
			switch sc.To {
			case "applying":
				ms = append(ms, chart.Mark{T: l.Time, Label: "apply", Kind: chart.MarkApply})
			case "load-test":
				ms = append(ms, chart.Mark{T: l.Time, Label: "load test", Kind: chart.MarkOther})
			case "soak":
				ms = append(ms, chart.Mark{T: l.Time, Label: "soak", Kind: chart.MarkOther})
			case "rolling-back":
				ms = append(ms, chart.Mark{T: l.Time, Label: "rollback", Kind: chart.MarkRollback})
			}
		case evidence.EventCriterionFired:
			if cf, err := dec.CriterionFired(l); err == nil {
				ms = append(ms, chart.Mark{T: l.Time, Label: "fired: " + cf.Name, Kind: chart.MarkFired})
			}
		}
	}
	return ms
}
