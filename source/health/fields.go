package health

import (
	"fmt"
	"strings"
)

// metricFields maps each metric of the source to the fields of the health
// document it is computed from. reachable and downtime_s need only a
// document (or its absence); every other metric is a gap when one of its
// fields is absent — never 0.
var metricFields = map[string][]string{
	"reachable":             nil,
	"downtime_s":            nil,
	"error_rate":            {"requests.error_rate"},
	"latency_p50_ms":        {"requests.latency_p50_ms"},
	"latency_p95_ms":        {"requests.latency_p95_ms"},
	"latency_p99_ms":        {"requests.latency_p99_ms"},
	"requests":              {"requests.total", "requests.window_seconds"},
	"pool.max":              {"pool.max"},
	"pool.min":              {"pool.min"},
	"pool.total":            {"pool.total"},
	"pool.acquired":         {"pool.acquired"},
	"pool.idle":             {"pool.idle"},
	"pool.utilization":      {"pool.utilization"},
	"pool.waiting":          {"pool.waiting"},
	"pool.oldest_wait_ms":   {"pool.oldest_wait_ms"},
	"pool.wait_p50_ms":      {"pool.wait_p50_ms"},
	"pool.wait_p95_ms":      {"pool.wait_p95_ms"},
	"pool.wait_p99_ms":      {"pool.wait_p99_ms"},
	"pool.churn":            {"pool.churn"},
	"pool.acquire_timeouts": {"pool.acquire_timeouts"},
	"pool.server_refusals":  {"pool.server_refusals"},
	"pool.opened_per_s":     {"pool.opened"},
	"pool.closed_per_s":     {"pool.closed"},
	"thrashing":             {"pool.opened", "pool.acquires"},
}

// MetricFields returns the document fields metric is computed from, and
// false when metric is not one of the source's.
func MetricFields(metric string) ([]string, bool) {
	f, ok := metricFields[metric]
	return append([]string(nil), f...), ok
}

// Missing returns the fields metric needs that d does not carry, in order;
// nil when it can be computed (or is not a metric of the source).
func (d Document) Missing(metric string) []string {
	var out []string
	for _, f := range metricFields[metric] {
		if !d.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// AbsentReason is the gap reason for fields a document lacks, e.g.
// "field requests.error_rate absent from the health document".
func AbsentReason(fields []string) string {
	if len(fields) == 1 {
		return fmt.Sprintf("field %s absent from the health document", fields[0])
	}
	return fmt.Sprintf("fields %s absent from the health document", strings.Join(fields, ", "))
}
