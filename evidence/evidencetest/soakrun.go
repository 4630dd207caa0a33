package evidencetest

import (
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
)

func (b *builder) soak(sc Scenario) {
	b.at(tSoak)
	b.to("soak", "2m, evaluated every 1s")
	end := tSoak + soakLen
	if sc == Rollback {
		end = tFire + 30*time.Second
	}
	crit := Criteria()
	mon := evidence.SustainedMonitoring{Started: Start.Add(tSoak), Ended: Start.Add(end), PlannedSeconds: soakLen.Seconds(), IntervalSeconds: 1}
	for t := tBaseline; t < end; t += time.Second {
		s := sample(t, sc)
		s.States = states(s, t, crit)
		mon.Samples = append(mon.Samples, s)
	}
	if sc == Rollback {
		b.rollback(mon.Samples)
	}
	b.at(end)
	b.finishCriteria(crit, mon.Samples, sc)
	mon.Criteria = crit
	coverage(&mon)
	after := evidence.LatencyStats{Requests: 47880, P50MS: 11.8, P95MS: 41.3, P99MS: 79.5, MaxMS: 140}
	mon.Summary = &evidence.Aggregate{Requests: 47880, Errors: 5, ErrorRate: 0.000104, LatencyP50MS: 11.8, LatencyP95MS: 41.3, LatencyP99MS: 79.5, Utilization: 0.19, WaitP95MS: 1.1}
	mon.Verdict = evidence.VerdictPass
	if sc == Rollback {
		after = evidence.LatencyStats{Requests: 27520, P50MS: 14.2, P95MS: 1290.4, P99MS: 1544.0, MaxMS: 2011}
		mon.Summary = &evidence.Aggregate{Requests: 27520, Errors: 52, ErrorRate: 0.00189, LatencyP50MS: 14.2, LatencyP95MS: 1290.4, LatencyP99MS: 1544.0, Utilization: 0.93, WaitP95MS: 370}
		mon.Verdict, mon.Reason = evidence.VerdictFail, "rollback trigger latency_high fired: latency_p95_ms > 1000 held 10s"
	}
	b.must(b.f.WriteJSON(evidence.FileSustainedMonitoring, mon))
	b.comparisons(after, mon.Summary)
	if sc == Rollback {
		b.to("rolled-back", "pool restored to max 10, min 2 on every instance")
	} else {
		b.to("succeeded", "all success criteria held for 2m")
	}
}

func (b *builder) rollback(samples []evidence.Sample) {
	b.at(tFire)
	v := *sample(tFire, Rollback).LatencyP95MS
	b.must(b.f.Record(evidence.CriterionFired{Name: "latency_high", Role: poolpilot.RoleRollback,
		Class: poolpilot.ClassP1, Expr: "latency_p95_ms > 1000", Value: ptr(v), Threshold: ptr(1000), HeldFor: "10s"}))
	b.must(b.f.Record(evidence.Incident{Class: poolpilot.ClassP1, Name: "Performance degradation (p95 > 1s)",
		Detail: fmt.Sprintf("fleet p95 %.1f ms for 10s", v)}))
	b.must(b.f.Record(evidence.Rollback{Reason: "latency_high: latency_p95_ms > 1000 held 10s", Trigger: "latency_high", Automatic: true}))
	b.to("rolling-back", "trigger latency_high")
	b.apply(true)
	b.verify(10, 2)
}

func (b *builder) finishCriteria(crit []evidence.CriterionResult, samples []evidence.Sample, sc Scenario) {
	for i := range crit {
		c := &crit[i]
		c.State, c.Verdict = evidence.StateOK, evidence.VerdictPass
		switch {
		case c.Name == "pool_max":
			c.Value = ptr(200)
		case c.Name == "pool_min":
			c.Value = ptr(20)
		case c.Name == "sustained":
			if sc == Rollback {
				c.Verdict, c.State, c.Detail = evidence.VerdictFail, evidence.StateFiring, "held 1m0s of 2m0s before the rollback"
			} else {
				c.Detail = "held 2m0s of 2m0s"
			}
		case c.Metric == "":
			c.Value = ptr(0.02)
			if c.Name == "db_cpu" {
				c.Value = ptr(38)
			}
		default:
			worst(c, samples)
		}
	}
}

// worst sets the criterion's value to the worst soak value and its verdict.
func worst(c *evidence.CriterionResult, samples []evidence.Sample) {
	for _, s := range samples {
		if s.Time.Before(Start.Add(tSoak)) {
			continue
		}
		v := metricOf(s, c.Metric)
		if v == nil {
			continue
		}
		if c.Value == nil || (c.Op == "<" && *v > *c.Value) || (c.Op == ">" && *v > *c.Value) {
			c.Value = ptr(*v)
		}
		if st := s.States[c.Name]; st == evidence.StateFiring || (c.Role == poolpilot.RoleSuccess && st == evidence.StatePending) {
			c.State, c.Verdict = evidence.StateFiring, evidence.VerdictFail
		}
	}
}

func (b *builder) comparisons(after evidence.LatencyStats, sum *evidence.Aggregate) {
	base := evidence.LatencyStats{Requests: 5970, P50MS: 12.4, P95MS: 46.8, P99MS: 88.1, MaxMS: 131}
	pct := func(a, b float64) float64 { return round((b-a)/a*100, 1) }
	lc := evidence.LatencyComparison{Baseline: base, After: after, DeltaP50Pct: pct(base.P50MS, after.P50MS),
		DeltaP95Pct: pct(base.P95MS, after.P95MS), DeltaP99Pct: pct(base.P99MS, after.P99MS), MaxRegressionPct: 20}
	lc.Regression = lc.DeltaP95Pct > lc.MaxRegressionPct
	b.must(b.f.WriteJSON(evidence.FileLatencyComparison, lc))
	b.must(b.f.Write(evidence.FileErrorRateComparison, []byte(fmt.Sprintf(
		"baseline error_rate 0.000168 (1 of 5970 requests, 30s)\nafter    error_rate %.6f (%d of %d requests)\nchange   %+.6f\nverdict  %s\n",
		sum.ErrorRate, sum.Errors, sum.Requests, sum.ErrorRate-0.000168, map[bool]string{true: "no regression", false: "REGRESSION"}[sum.ErrorRate <= 0.001]))))
}

// coverage fills in the verdict's coverage figures as a run writes them:
// the soak watched throughout (one evaluation a second, no gap), each
// success criterion's conclusive share of it, and the minimum share.
func coverage(mon *evidence.SustainedMonitoring) {
	watched := mon.Ended.Sub(mon.Started)
	mon.WatchedSeconds, mon.MinCoverage = watched.Seconds(), 0.9
	for _, c := range mon.Criteria {
		if c.Role != poolpilot.RoleSuccess {
			continue
		}
		conclusive := 0
		for _, s := range mon.Samples {
			if !s.Time.Before(mon.Started) && s.Time.Before(mon.Ended) && s.States[c.Name] != evidence.StateInconclusive {
				conclusive++
			}
		}
		secs := float64(conclusive) * mon.IntervalSeconds
		mon.Coverage = append(mon.Coverage, evidence.CriterionCoverage{Name: c.Name, ConclusiveSeconds: secs,
			WatchedSeconds: watched.Seconds(), Ratio: secs / watched.Seconds(), LastState: evidence.StateOK})
	}
}
