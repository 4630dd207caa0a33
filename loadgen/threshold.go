package loadgen

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Threshold is a pass/fail condition on a run's report, in k6's spirit:
// "p95<500ms", "error_rate<0.001", "dropped==0". Grammar (spaces allowed
// between the parts):
//
//	threshold = metric op value
//	op        = "<" | "<=" | ">" | ">=" | "==" | "!="
//	value     = number [unit]
//
// Time metrics (p50 p95 p99 max mean — latency from intended start;
// service_p50 … service_max; lag_p95 lag_max; pool_wait_p95) need a unit:
// ns, us, µs, ms, s or m. Ratio metrics (error_rate, rate_ratio =
// achieved/target, pool_utilization_max) take a fraction or a percentage
// ("0.1%"). Count metrics (requests errors late dropped violations) and
// achieved_rate (per second, "/s" optional) take a plain number. k6's
// "p(95)" is read as "p95".
type Threshold struct {
	Metric string
	Op     string
	Value  float64 // milliseconds for time metrics, a fraction for ratios
}

type metricKind int

const (
	kindTime metricKind = iota
	kindRatio
	kindCount
	kindRate
)

var metricKinds = map[string]metricKind{
	"p50": kindTime, "p95": kindTime, "p99": kindTime, "max": kindTime, "mean": kindTime,
	"service_p50": kindTime, "service_p95": kindTime, "service_p99": kindTime, "service_max": kindTime,
	"lag_p95": kindTime, "lag_max": kindTime, "pool_wait_p95": kindTime,
	"error_rate": kindRatio, "rate_ratio": kindRatio, "pool_utilization_max": kindRatio,
	"requests": kindCount, "errors": kindCount, "late": kindCount, "dropped": kindCount, "violations": kindCount,
	"achieved_rate": kindRate,
}

var timeUnits = []struct {
	suffix string
	ms     float64
}{{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3}, {"ms", 1}, {"s", 1000}, {"m", 60000}}

// ThresholdMetrics lists the metric names a threshold may use.
func ThresholdMetrics() []string {
	return []string{"p50", "p95", "p99", "max", "mean", "service_p50", "service_p95", "service_p99", "service_max",
		"lag_p95", "lag_max", "pool_wait_p95", "error_rate", "rate_ratio", "pool_utilization_max",
		"requests", "errors", "late", "dropped", "violations", "achieved_rate"}
}

// ParseThreshold reads one threshold expression strictly.
func ParseThreshold(s string) (Threshold, error) {
	bad := func(format string, args ...any) (Threshold, error) {
		return Threshold{}, fmt.Errorf("threshold %q: %s", s, fmt.Sprintf(format, args...))
	}
	i := strings.IndexAny(s, "<>=!")
	if i < 0 {
		return bad("want METRIC OP VALUE, e.g. p95<500ms or error_rate<0.001")
	}
	metric := strings.TrimSpace(s[:i])
	if m, ok := strings.CutPrefix(metric, "p("); ok && strings.HasSuffix(m, ")") {
		metric = "p" + strings.TrimSuffix(m, ")")
	}
	kind, ok := metricKinds[metric]
	if !ok {
		return bad("unknown metric %q (known: %s)", metric, strings.Join(ThresholdMetrics(), " "))
	}
	rest := s[i:]
	var op string
	for _, o := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if strings.HasPrefix(rest, o) {
			op = o
			break
		}
	}
	if op == "" {
		return bad("unknown operator: use <, <=, >, >=, == or !=")
	}
	val := strings.TrimSpace(rest[len(op):])
	v, err := parseValue(val, kind)
	if err != nil {
		return bad("%v", err)
	}
	return Threshold{Metric: metric, Op: op, Value: v}, nil
}

func parseValue(val string, kind metricKind) (float64, error) {
	num, scale := val, 1.0
	switch kind {
	case kindTime:
		unit := ""
		for _, u := range timeUnits {
			if n, ok := strings.CutSuffix(val, u.suffix); ok && len(u.suffix) > len(unit) {
				num, scale, unit = n, u.ms, u.suffix
			}
		}
		if unit == "" {
			return 0, fmt.Errorf("value %q needs a time unit, e.g. 500ms or 1.5s", val)
		}
	case kindRatio:
		if n, ok := strings.CutSuffix(val, "%"); ok {
			num, scale = n, 0.01
		}
	case kindRate:
		num, _ = strings.CutSuffix(val, "/s")
	}
	if num == "" || strings.TrimSpace(num) != num || strings.ContainsAny(num, "_xXpP") {
		return 0, fmt.Errorf("value %q is not a number", val)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("value %q is not a number", val)
	}
	f *= scale
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, fmt.Errorf("value %q must be a finite number, not negative", val)
	}
	return f, nil
}

// String writes the threshold in canonical form; ParseThreshold reads it
// back to the same Threshold.
func (t Threshold) String() string {
	v := strconv.FormatFloat(t.Value, 'g', -1, 64)
	if metricKinds[t.Metric] == kindTime {
		v += "ms"
	}
	return t.Metric + t.Op + v
}

// NeedsPool says whether the metric exists only for targets behind a pool.
func (t Threshold) NeedsPool() bool { return strings.HasPrefix(t.Metric, "pool_") }

// ThresholdResult is a threshold checked against a report.
type ThresholdResult struct {
	Expr   string  `json:"expr"`
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`  // the report's value of the metric
	Actual string  `json:"actual"` // the same, with its unit
	OK     bool    `json:"ok"`
}

// Value returns the threshold's metric in r; ok is false when r has no such
// value (a pool metric for a target without a pool).
func (t Threshold) value(r *Report) (float64, bool) {
	switch t.Metric {
	case "p50", "p95", "p99", "max", "mean":
		return pick(r.LatencyMS, t.Metric), true
	case "service_p50", "service_p95", "service_p99", "service_max":
		return pick(r.ServiceMS, strings.TrimPrefix(t.Metric, "service_")), true
	case "lag_p95":
		return r.LagMS.P95, true
	case "lag_max":
		return r.LagMS.Max, true
	case "error_rate":
		return r.ErrorRate, true
	case "rate_ratio":
		if r.TargetRate == 0 {
			return 0, false
		}
		return r.AchievedRate / r.TargetRate, true
	case "achieved_rate":
		return r.AchievedRate, true
	case "requests":
		return float64(r.Requests), true
	case "errors":
		return float64(r.Errors), true
	case "late":
		return float64(r.Late), true
	case "dropped":
		return float64(r.Dropped), true
	case "violations":
		return float64(r.Violations), true
	case "pool_wait_p95", "pool_utilization_max":
		if r.Pool == nil {
			return 0, false
		}
		if t.Metric == "pool_wait_p95" {
			return r.Pool.WaitP95MS, true
		}
		return r.Pool.UtilizationMax, true
	}
	return 0, false
}

func pick(q Quantiles, name string) float64 {
	switch name {
	case "p50":
		return q.P50
	case "p95":
		return q.P95
	case "p99":
		return q.P99
	case "mean":
		return q.Mean
	}
	return q.Max
}

// Check evaluates the threshold against r. A metric r does not have fails.
func (t Threshold) Check(r *Report) ThresholdResult {
	v, ok := t.value(r)
	res := ThresholdResult{Expr: t.String(), Metric: t.Metric, Value: v}
	if !ok {
		res.Actual = "no data"
		return res
	}
	switch metricKinds[t.Metric] {
	case kindTime:
		res.Actual = strconv.FormatFloat(v, 'f', 3, 64) + "ms"
	case kindRatio:
		res.Actual = strconv.FormatFloat(v, 'g', 6, 64)
	default:
		res.Actual = strconv.FormatFloat(v, 'f', -1, 64)
	}
	switch t.Op {
	case "<":
		res.OK = v < t.Value
	case "<=":
		res.OK = v <= t.Value
	case ">":
		res.OK = v > t.Value
	case ">=":
		res.OK = v >= t.Value
	case "==":
		res.OK = v == t.Value
	case "!=":
		res.OK = v != t.Value
	}
	return res
}

// CheckAll evaluates every threshold, stores the results in r, and returns
// the ones that failed.
func CheckAll(r *Report, ts []Threshold) []ThresholdResult {
	var failed []ThresholdResult
	r.Thresholds = nil
	for _, t := range ts {
		res := t.Check(r)
		r.Thresholds = append(r.Thresholds, res)
		if !res.OK {
			failed = append(failed, res)
		}
	}
	return failed
}
