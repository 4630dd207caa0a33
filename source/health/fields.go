package health

import (
	"fmt"
	"strings"

	"github.com/poolpilot/poolpilot"
)

// metricFields maps each metric of the source to the fields of the health
// document it is computed from. reachable and downtime_s need only a
// document (or its absence); every other metric is a gap when one of its
// fields is absent — never 0.
var metricFields = map[string][]string{
	poolpilot.MetricReachable:           nil,
	poolpilot.MetricDowntime:            nil,
	poolpilot.MetricErrorRate:           {"requests.error_rate"},
	poolpilot.MetricLatencyP50:          {"requests.latency_p50_ms"},
	poolpilot.MetricLatencyP95:          {"requests.latency_p95_ms"},
	poolpilot.MetricLatencyP99:          {"requests.latency_p99_ms"},
	poolpilot.MetricRequests:            {"requests.total", "requests.window_seconds"},
	poolpilot.MetricPoolMax:             {poolpilot.MetricPoolMax},
	poolpilot.MetricPoolMin:             {poolpilot.MetricPoolMin},
	poolpilot.MetricPoolTotal:           {poolpilot.MetricPoolTotal},
	poolpilot.MetricPoolAcquired:        {poolpilot.MetricPoolAcquired},
	poolpilot.MetricPoolIdle:            {poolpilot.MetricPoolIdle},
	poolpilot.MetricPoolUtilization:     {poolpilot.MetricPoolUtilization},
	poolpilot.MetricPoolWaiting:         {poolpilot.MetricPoolWaiting},
	poolpilot.MetricPoolOldestWait:      {poolpilot.MetricPoolOldestWait},
	poolpilot.MetricPoolWaitP50:         {poolpilot.MetricPoolWaitP50},
	poolpilot.MetricPoolWaitP95:         {poolpilot.MetricPoolWaitP95},
	poolpilot.MetricPoolWaitP99:         {poolpilot.MetricPoolWaitP99},
	poolpilot.MetricPoolChurn:           {poolpilot.MetricPoolChurn},
	poolpilot.MetricPoolAcquireTimeouts: {poolpilot.MetricPoolAcquireTimeouts},
	poolpilot.MetricPoolServerRefusals:  {poolpilot.MetricPoolServerRefusals},
	poolpilot.MetricPoolOpenedPerS:      {"pool.opened"},
	poolpilot.MetricPoolClosedPerS:      {"pool.closed"},
	poolpilot.MetricThrashing:           {"pool.opened", "pool.acquires"},
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
