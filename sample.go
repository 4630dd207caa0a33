package poolpilot

import "time"

// Sample is one observation of one metric on one instance at one time, as
// the criteria engine consumes it. Metric names are the criteria
// vocabulary (metric.go, docs/criteria.md): MetricErrorRate,
// MetricPoolUtilization, MetricDBCPU, … and PromQLMetric(query) for
// Prometheus queries.
//
// A source that tried to observe a metric and could not (a failed /healthz
// poll, a body that is not a health document, an empty PromQL answer)
// reports a Sample with Gap set: a data gap, never a zero. Value is then 0
// and meaningless, and Reason says why.
type Sample struct {
	Metric string `json:"metric"`
	// Instance names the instance the sample belongs to: a service
	// instance's host:port for health metrics, the database for pg
	// metrics, a series' instance label for PromQL. "" when there is one.
	Instance string    `json:"instance,omitempty"`
	Time     time.Time `json:"time"`
	Value    float64   `json:"value"`
	Gap      bool      `json:"gap,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Source   string    `json:"source,omitempty"`
}

// Series is the stored samples of one metric on one instance, oldest first.
type Series struct {
	Metric   string   `json:"metric"`
	Instance string   `json:"instance,omitempty"`
	Samples  []Sample `json:"samples"`
}

// MetricPromQL is the Expr metric name of a criterion whose value comes from
// a PromQL query (CriterionSpec.Query).
const MetricPromQL = "promql"

// PromQLMetric is the Sample.Metric under which the result of a PromQL
// query is stored, so that several "promql" criteria with different queries
// do not mix.
func PromQLMetric(query string) string { return MetricPromQL + ":" + query }
