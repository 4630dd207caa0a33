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

// chartSpec says how to draw one monitored metric.
type chartSpec struct {
	// metric is the evidence sample's name; vocab the criteria
	// vocabulary's, which criteria name.
	id, title, metric, vocab, unit string
	scale                          float64
	get                            func(evidence.Sample) *float64
}

var chartSpecs = []chartSpec{
	{"latency_p95", "Latency p95", evidence.MetricLatencyP95, poolpilot.MetricLatencyP95, " ms", 1, func(s evidence.Sample) *float64 { return s.LatencyP95MS }},
	{"error_rate", "Error rate", evidence.MetricErrorRate, poolpilot.MetricErrorRate, "%", 100, func(s evidence.Sample) *float64 { return s.ErrorRate }},
	{"utilization", "Pool utilization", evidence.MetricUtilization, poolpilot.MetricPoolUtilization, "%", 100, func(s evidence.Sample) *float64 { return s.Utilization }},
	{"wait_p95", "Pool wait p95", evidence.MetricWaitP95, poolpilot.MetricPoolWaitP95, " ms", 1, func(s evidence.Sample) *float64 { return s.WaitP95MS }},
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
	for _, sp := range chartSpecs {
		pts := make([]chart.Point, 0, len(mon.Samples))
		for _, s := range mon.Samples {
			v := sp.get(s)
			p := chart.Point{T: s.Time, Missing: v == nil}
			if v != nil {
				p.V = *v
			}
			pts = append(pts, p)
		}
		c := chart.Chart{Title: sp.title, Unit: sp.unit, Scale: sp.scale, Marks: marks,
			Series: []chart.Series{{Name: sp.title, Points: pts}}}
		for _, cr := range mon.Criteria {
			// Criteria name pool metrics in the criteria vocabulary
			// (poolpilot.MetricPoolUtilization); the evidence samples
			// drop the "pool." prefix.
			if (cr.Metric != sp.metric && cr.Metric != sp.vocab) || cr.Threshold == nil {
				continue
			}
			kind := chart.KindSuccess
			if cr.Role == "rollback" {
				kind = chart.KindRollback
			}
			label := fmt.Sprintf("%s %s %s%s", cr.Role, cr.Op, trimFloat(*cr.Threshold*sp.scale), sp.unit)
			if cr.For != "" {
				label += " for " + cr.For
			}
			c.Thresholds = append(c.Thresholds, chart.Threshold{Value: *cr.Threshold, Label: label, Kind: kind})
		}
		out = append(out, NamedChart{ID: sp.id, Title: sp.title, Chart: c})
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
