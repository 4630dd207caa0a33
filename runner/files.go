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

// finish writes the closing evidence (monitoring, comparisons, the
// journal, the report), closes the folder and returns its head hash and
// the report's path.
func (r *runner) finish(ctx context.Context, out change.Outcome) (head, reportPath string) {
	if r.mon != nil {
		r.writeMonitoring(out)
	}
	if r.base != nil && r.after != nil {
		r.writeComparisons()
	}
	if b, err := os.ReadFile(filepath.Join(ControlDir(r.dir), change.JournalFile)); err == nil {
		r.writeFile("journal.jsonl", b)
	}
	r.closeAll()
	r.closers = nil
	if m, err := report.Load(r.dir); err == nil {
		r.beforeClose(m)
		r.writeFile(evidence.FileReportMD, report.Markdown(m, report.MarkdownOptions{}))
		if html, err := report.HTML(m); err == nil {
			r.writeFile(evidence.FileReportHTML, html)
			reportPath = filepath.Join(r.dir, evidence.FileReportHTML)
		}
	} else {
		r.logf("warning: report not written: %v", err)
	}
	h, err := r.folder.Close()
	if err != nil {
		r.logf("warning: evidence not closed: %v", err)
	}
	return h, reportPath
}

func (r *runner) writeMonitoring(out change.Outcome) {
	m := r.mon
	sm := r.monitoring()
	if sm.Verdict == "" {
		sm.Verdict, sm.Reason = evidence.VerdictInconclusive, "the soak did not run: the run ended in "+string(out.State)
		if out.Reason != "" {
			sm.Reason += ": " + out.Reason
		}
	}
	if r.after != nil {
		a := r.after.fleet()
		sm.Summary = &a
	}
	if last := m.Last(); last != nil {
		for _, res := range last.Results {
			sm.Criteria = append(sm.Criteria, criterionResult(res, m.Engine()))
		}
	}
	r.writeJSON(evidence.FileSustainedMonitoring, sm)
}

// monitoring is sustained_monitoring.json so far.
func (r *runner) monitoring() evidence.SustainedMonitoring {
	m := r.mon
	sm := evidence.SustainedMonitoring{
		Started: r.soak.started, Ended: r.soak.ended, PlannedSeconds: r.p.Soak.Duration.D().Seconds(),
		IntervalSeconds: m.Interval().Seconds(), Samples: m.Samples(), Verdict: r.soak.verdict, Reason: r.soak.reason,
		WatchedSeconds: r.soak.watched.Seconds(), Client: r.soak.client, Gaps: r.soak.gaps, MinCoverage: r.soak.minCoverage, Coverage: r.soak.coverage,
	}
	if sm.Samples == nil {
		sm.Samples = []evidence.Sample{}
	}
	return sm
}

// checkpointEvery is how often the samples so far are written during the
// soak, so that a crash loses at most this much of the series.
const checkpointEvery = time.Minute

// checkpoint writes sustained_monitoring.json with the samples so far
// (verdict "inconclusive" until the run ends).
func (r *runner) checkpoint() {
	sm := r.monitoring()
	sm.Verdict, sm.Reason = evidence.VerdictInconclusive, "checkpoint: the run is in progress"
	r.writeJSON(evidence.FileSustainedMonitoring, sm)
}

// restoreSamples prepends the samples a crashed process checkpointed.
func (r *runner) restoreSamples(m *monitor.Monitor) {
	b, err := os.ReadFile(filepath.Join(r.dir, evidence.FileSustainedMonitoring))
	if err != nil {
		return
	}
	var sm evidence.SustainedMonitoring
	if json.Unmarshal(b, &sm) == nil && len(sm.Samples) > 0 {
		m.Prepend(sm.Samples)
		r.logf("resume: %d monitoring samples from before the crash kept", len(sm.Samples))
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

func (r *runner) writeComparisons() {
	b, a := r.base.Fleet, r.after.fleet()
	verdict := "OK: no error-rate regression (after ≤ baseline + 0.1%)"
	if a.ErrorRate > b.ErrorRate+0.001 {
		verdict = "REGRESSION: the error rate rose by more than 0.1 percentage point"
	}
	r.writeFile(evidence.FileErrorRateComparison, []byte(fmt.Sprintf(
		"baseline error_rate %.6f (%d errors / %d requests)\nafter    error_rate %.6f (%d errors / %d requests)\nchange   %+.6f\nverdict  %s\n",
		b.ErrorRate, b.Errors, b.Requests, a.ErrorRate, a.Errors, a.Requests, a.ErrorRate-b.ErrorRate, verdict)))
	bl, al := r.base.Latency, r.after.latency()
	pct := func(after, before float64) float64 {
		if before <= 0 {
			return 0
		}
		return (after - before) / before * 100
	}
	lc := evidence.LatencyComparison{Baseline: bl, After: al, DeltaP50Pct: pct(al.P50MS, bl.P50MS),
		DeltaP95Pct: pct(al.P95MS, bl.P95MS), DeltaP99Pct: pct(al.P99MS, bl.P99MS), MaxRegressionPct: 20}
	lc.Regression = lc.DeltaP95Pct > lc.MaxRegressionPct
	r.writeJSON(evidence.FileLatencyComparison, lc)
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
	case string(change.StateSucceeded):
		m.Tone = "ok"
	case string(change.StateRolledBack), string(change.StateRefused):
		m.Tone = "warn"
	}
}
