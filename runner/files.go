package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/monitor"
	"github.com/poolpilot/poolpilot/report"
)

// writeBaselineFiles writes the seed's pre-change evidence.
func (r *runner) writeBaselineFiles(ctx context.Context, s *snapshot, b *baselineData) {
	r.writeJSON(evidence.FilePreChangeMetrics, evidence.PreChangeMetrics{
		Time: s.time, WindowSeconds: b.Window, Fleet: b.Fleet, Instances: s.instances, Database: s.db})
	r.writeJSON(evidence.FilePreChangeConfig, change.ConfigSnapshot(ctx, r.ctl.Prober, r.p.Instances, r.p.Change.From, r.clock.Now()))
	var c strings.Builder
	if d := s.db; d != nil {
		fmt.Fprintf(&c, "max_connections %d\nreserved_connections %d\nconnections %d\n", d.MaxConnections, d.SuperuserReserved, d.Connections)
		for _, k := range sortedKeys(d.ByState) {
			fmt.Fprintf(&c, "state.%s %d\n", k, d.ByState[k])
		}
		for _, k := range sortedKeys(d.ByApplication) {
			fmt.Fprintf(&c, "application.%s %d\n", k, d.ByApplication[k])
		}
	} else {
		c.WriteString("# no database statistics: the database was not reachable from poolpilot\n")
	}
	for _, ih := range s.instances {
		fmt.Fprintf(&c, "instance.%s.pool_total %d\n", ih.Name, ih.Health.Pool.Total)
	}
	r.writeFile(evidence.FilePreChangeConnections, []byte(c.String()))
	f := b.Fleet
	r.writeFile(evidence.FilePreChangeErrorRate, []byte(fmt.Sprintf(
		"window_seconds %.0f\nservice_window_seconds %.0f\nrequests %d\nerrors %d\nerror_rate %.6f\nerror_rate_percent %.4f%%\n",
		b.Window, s.window(), f.Requests, f.Errors, f.ErrorRate, f.ErrorRate*100)))
	lat := evidence.LatencyReport{Time: s.time, WindowSeconds: b.Window, Fleet: b.Latency, Instances: map[string]evidence.LatencyStats{}}
	for _, ih := range s.instances {
		if rq := ih.Health.Requests; rq != nil {
			lat.Instances[ih.Name] = evidence.LatencyStats{Requests: rq.Total, P50MS: rq.LatencyP50MS, P95MS: rq.LatencyP95MS, P99MS: rq.LatencyP99MS}
		}
	}
	r.writeJSON(evidence.FilePreChangeLatency, lat)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// monitoringHeader is sustained_monitoring.json without its samples, for
// the closing record; nil when no monitor ran and no sample was journalled.
func (r *runner) monitoringHeader(out change.Outcome, samples int) *evidence.SustainedMonitoring {
	r.mu.Lock()
	m := r.mon
	r.mu.Unlock()
	if m == nil && samples == 0 {
		return nil
	}
	interval := r.p.Evaluation.Interval.D()
	if interval <= 0 {
		interval = time.Second
	}
	sm := &evidence.SustainedMonitoring{Started: r.soak.started, Ended: r.soak.ended, PlannedSeconds: r.p.Soak.Duration.D().Seconds(),
		IntervalSeconds: interval.Seconds(), Verdict: r.soak.verdict, Reason: r.soak.reason, Criteria: []evidence.CriterionResult{},
		WatchedSeconds: r.soak.watched.Seconds(), Client: r.soak.client, Gaps: r.soak.gaps, MinCoverage: r.soak.minCoverage, Coverage: r.soak.coverage}
	if sm.Verdict == "" {
		sm.Verdict, sm.Reason = evidence.VerdictInconclusive, "the soak did not conclude: the run ended in "+string(out.State)
		if out.Reason != "" {
			sm.Reason += ": " + out.Reason
		}
	}
	sm.Summary = r.afterFleet()
	if m != nil {
		if last := m.Last(); last != nil {
			for _, res := range last.Results {
				sm.Criteria = append(sm.Criteria, criterionResult(res, m.Engine()))
			}
		}
	}
	return sm
}

// afterFleet is the fleet view after the load test or the soak: measured
// by this process, or journalled by the one before a crash.
func (r *runner) afterFleet() *evidence.Aggregate {
	if r.after != nil {
		a := r.after.fleet()
		return &a
	}
	if r.samples != nil {
		_, a := r.samples.closed()
		return a
	}
	return nil
}

// checkpointEvery is how often, during the soak, the soak's observed time
// is journalled (the samples are journalled continuously).
const checkpointEvery = time.Minute

// checkpoint journals the samples so far and the fleet view after the
// load test (the closing evidence is written only at the end).
func (r *runner) checkpoint() {
	if err := r.flushSamples(); err != nil {
		r.logf("warning: monitoring samples not journalled yet (kept in memory, retried): %v", err)
	}
	if r.after != nil && r.after != r.afterJournalled {
		if err := r.journalAfter(); err != nil {
			r.logf("warning: the fleet view after the load test was not journalled: %v", err)
			return
		}
		r.afterJournalled = r.after
	}
}

// restoreSamples prepends the samples journalled before a crash (or, for
// a run from before the samples journal, those of its checkpoint).
func (r *runner) restoreSamples(m *monitor.Monitor) {
	ss := r.samples.all()
	if len(ss) == 0 {
		b, err := os.ReadFile(filepath.Join(r.dir, evidence.FileSustainedMonitoring))
		var sm evidence.SustainedMonitoring
		if err != nil || json.Unmarshal(b, &sm) != nil {
			return
		}
		ss = sm.Samples
	}
	if len(ss) > 0 {
		m.Prepend(ss)
		r.logf("resume: %d monitoring samples from before the crash kept", len(ss))
	}
}

func criterionResult(res criteria.Result, eng *criteria.Engine) evidence.CriterionResult {
	cr := evidence.CriterionResult{Name: res.Name, Role: res.Role, Class: res.Class, Expr: res.Expr, Value: res.Value,
		Threshold: res.Threshold, State: string(res.State), Detail: res.Reason}
	if res.ForS > 0 {
		cr.For = fmt.Sprint(res.ForS) + "s"
	}
	for _, c := range eng.Criteria() {
		if c.Name == res.Name {
			cr.Metric, cr.Op = c.Key(), string(c.Parsed.Op)
		}
	}
	switch {
	case res.State == criteria.StateInconclusive:
		cr.Verdict = evidence.VerdictInconclusive
	case res.Role == "rollback" && res.State == criteria.StateFiring:
		cr.Verdict = evidence.VerdictFail
	case res.Role == "success" && res.State != criteria.StateOK:
		cr.Verdict = evidence.VerdictFail
	default:
		cr.Verdict = evidence.VerdictPass
	}
	return cr
}

// comparisons renders error_rate_comparison.txt and
// latency_comparison.json from the baseline and the fleet view after.
func (r *runner) comparisons(a evidence.Aggregate) (errorRate []byte, latency evidence.LatencyComparison) {
	b := r.base.Fleet
	verdict := "OK: no error-rate regression (after ≤ baseline + 0.1%)"
	if a.ErrorRate > b.ErrorRate+0.001 {
		verdict = "REGRESSION: the error rate rose by more than 0.1 percentage point"
	}
	errorRate = []byte(fmt.Sprintf(
		"baseline error_rate %.6f (%d errors / %d requests)\nafter    error_rate %.6f (%d errors / %d requests)\nchange   %+.6f\nverdict  %s\n",
		b.ErrorRate, b.Errors, b.Requests, a.ErrorRate, a.Errors, a.Requests, a.ErrorRate-b.ErrorRate, verdict))
	bl := r.base.Latency
	al := evidence.LatencyStats{Requests: a.Requests, P50MS: a.LatencyP50MS, P95MS: a.LatencyP95MS, P99MS: a.LatencyP99MS}
	pct := func(after, before float64) float64 {
		if before <= 0 {
			return 0
		}
		return (after - before) / before * 100
	}
	lc := evidence.LatencyComparison{Baseline: bl, After: al, DeltaP50Pct: pct(al.P50MS, bl.P50MS),
		DeltaP95Pct: pct(al.P95MS, bl.P95MS), DeltaP99Pct: pct(al.P99MS, bl.P99MS), MaxRegressionPct: 20}
	lc.Regression = lc.DeltaP95Pct > lc.MaxRegressionPct
	return errorRate, lc
}

// beforeClose adjusts a report rendered into the folder before its Close:
// the missing audit.head is expected then, not a problem of the evidence.
func (r *runner) beforeClose(m *report.Model) {
	var keep []evidence.Problem
	for _, p := range m.Integrity.Problems {
		if p.Kind != evidence.ProblemNotClosed {
			keep = append(keep, p)
		}
	}
	m.Integrity.Problems = keep
	if len(keep) > 0 {
		return
	}
	m.Integrity.OK = true
	_, m.Integrity.Head = r.folder.Head()
	switch m.FinalState {
	case string(change.StateSucceeded), string(change.StateSettled):
		m.Tone = "ok"
	case string(change.StateRolledBack), string(change.StateRefused):
		m.Tone = "warn"
	}
}
