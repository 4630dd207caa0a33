package evidencetest

import (
	"math"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
)

// Criteria are the seed's success criteria and rollback triggers, with
// windows compressed for the fixture.
func Criteria() []evidence.CriterionResult {
	c := func(name, role, class, expr, metric, op string, thr float64, forD string) evidence.CriterionResult {
		r := evidence.CriterionResult{Name: name, Role: role, Class: class, Expr: expr, Metric: metric, Op: op, For: forD}
		if metric != "" {
			r.Threshold = ptr(thr)
		}
		return r
	}
	S, R := poolpilot.RoleSuccess, poolpilot.RoleRollback
	return []evidence.CriterionResult{
		c("pool_max", S, "", "pool.max == 200", "", "", 0, ""),
		c("pool_min", S, "", "pool.min == 20", "", "", 0, ""),
		c("utilization", S, "", "utilization < 0.7", evidence.MetricUtilization, "<", 0.7, ""),
		c("wait_p95", S, "", "wait_p95_ms < 10", evidence.MetricWaitP95, "<", 10, ""),
		c("error_rate", S, "", "error_rate < 0.001", evidence.MetricErrorRate, "<", 0.001, ""),
		c("latency_p95", S, "", "latency_p95_ms < 500", evidence.MetricLatencyP95, "<", 500, ""),
		c("sustained", S, "", "all success criteria hold for 2m", "", "", 0, "2m0s"),
		c("error_rate_high", R, poolpilot.ClassP0, "error_rate > 0.01", evidence.MetricErrorRate, ">", 0.01, "10s"),
		c("latency_high", R, poolpilot.ClassP1, "latency_p95_ms > 1000", evidence.MetricLatencyP95, ">", 1000, "10s"),
		c("thrashing", R, poolpilot.ClassP1, "churn > 0.5", "", "", 0, "10s"),
		c("db_cpu", R, poolpilot.ClassP1, "db_cpu_percent > 90", "", "", 0, "10s"),
	}
}

// sample is the fixture's value of every metric at t (offset from Start).
func sample(t time.Duration, sc Scenario) evidence.Sample {
	s := t.Seconds()
	wave := math.Sin(s/7) + 0.5*math.Sin(s/2.3)
	lat, er, util, wait := 40+4*wave, 0.0001+0.00005*wave, 0.16+0.03*wave, 0.9+0.2*wave
	switch {
	case t < tApply:
		lat, util, wait = 46+5*wave, 0.82+0.06*wave, 24+4*wave
	case t >= tLoad && t < tSoak:
		lat, util, wait = 70+6*wave, 0.28+0.03*wave, 1.1+0.2*wave
	}
	if sc == Rollback && t >= tSpike && t < tFire+6*time.Second {
		k := (t - tSpike).Seconds()
		lat, er, util, wait = 1080+25*k+30*wave, 0.004+0.0002*k, 0.93, 180+20*k
	}
	if sc == Rollback && t >= tFire+6*time.Second {
		lat, util, wait = 47+5*wave, 0.83+0.05*wave, 25+4*wave
	}
	out := evidence.Sample{Time: Start.Add(t), LatencyP95MS: ptr(round(lat, 1)), ErrorRate: ptr(round(er, 6)),
		Utilization: ptr(round(util, 3)), WaitP95MS: ptr(round(wait, 2))}
	if t == tSoak+20*time.Second { // a failed poll: a gap, not a zero
		out.LatencyP95MS, out.ErrorRate, out.Utilization, out.WaitP95MS = nil, nil, nil, nil
	}
	return out
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// states gives each criterion's state for one sample (the ones without a
// metric, such as pool_max, hold throughout).
func states(s evidence.Sample, t time.Duration, crit []evidence.CriterionResult) map[string]string {
	m := map[string]string{}
	for _, c := range crit {
		v := metricOf(s, c.Metric)
		switch {
		case c.Metric == "":
			m[c.Name] = evidence.StateOK
		case v == nil:
			m[c.Name] = evidence.StateInconclusive
		case breaches(c, *v):
			m[c.Name] = evidence.StatePending
			if c.Role == poolpilot.RoleRollback && t >= tFire {
				m[c.Name] = evidence.StateFiring
			}
		default:
			m[c.Name] = evidence.StateOK
		}
	}
	return m
}

func metricOf(s evidence.Sample, metric string) *float64 {
	switch metric {
	case evidence.MetricLatencyP95:
		return s.LatencyP95MS
	case evidence.MetricErrorRate:
		return s.ErrorRate
	case evidence.MetricUtilization:
		return s.Utilization
	case evidence.MetricWaitP95:
		return s.WaitP95MS
	}
	return nil
}

func breaches(c evidence.CriterionResult, v float64) bool {
	if c.Op == "<" {
		return !(v < *c.Threshold)
	}
	return v > *c.Threshold
}
