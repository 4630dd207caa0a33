package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
)

// Tolerances for "returned to its baseline" after a rollback.
const (
	returnErrorRateAbs = 0.01 // error rate within 1 point of the baseline
	returnLatencyRel   = 1.2  // p95 within 20 % of the baseline…
	returnLatencyAbsMS = 20   // …or 20 ms, whichever is larger
)

// postRollback watches the criteria for rollback.monitor after a rollback
// (with the soak's background load) and records, in
// post_rollback_monitoring.json, whether the service returned to its
// baseline. It decides nothing: the rollback is done; this tells the
// operator whether the service recovered or needs a person.
func (r *runner) postRollback(ctx context.Context) {
	d := r.p.RollbackMonitor()
	if d <= 0 {
		r.logf("post-rollback monitoring: off (rollback.monitor 0s)")
		return
	}
	m, err := r.ensureMonitor(ctx)
	if err != nil {
		r.logf("post-rollback monitoring not started: %v", err)
		return
	}
	started := time.Now()
	r.logf("post-rollback monitoring: watching the criteria for %s", d)
	r.cv.restart()
	stopLoad := r.background(ctx, r.p.Soak.Rate, d, "post-rollback")
	w := newWatchedTime(m.Interval(), 0)
	w.prev = started
	prog := r.progressFn("post-rollback", d)
	runErr := m.Run(ctx, d, func(ev criteria.Evaluation) bool {
		w.tick(ev)
		return prog(ev)
	})
	stopLoad()
	after := r.snapshot(ctx)
	pm := evidence.PostRollbackMonitoring{Started: started.UTC(), Ended: time.Now().UTC(), PlannedSeconds: d.Seconds(),
		WatchedSeconds: w.watched.Seconds(), After: after.fleet(), Samples: []evidence.Sample{}, Criteria: []evidence.CriterionResult{}}
	if runErr != nil {
		pm.Interrupted = causeOf(ctx)
	}
	for _, s := range m.Samples() {
		if !s.Time.Before(started) {
			pm.Samples = append(pm.Samples, s)
		}
	}
	last := m.Last()
	if last != nil {
		for _, res := range last.Results {
			pm.Criteria = append(pm.Criteria, criterionResult(res, m.Engine()))
		}
	}
	if r.base != nil {
		b := r.base.Fleet
		pm.Baseline = &b
	}
	pm.Problems = returnProblems(last, after, pm.Baseline, pm.Interrupted)
	pm.ReturnedToBaseline = len(pm.Problems) == 0
	r.writeJSON(evidence.FilePostRollbackMonitoring, pm)
	if pm.ReturnedToBaseline {
		r.logf("post-rollback monitoring: the service returned to its baseline (%s watched)", criteria.HumanDuration(w.watched))
		r.event(evidence.Note{Text: "post-rollback monitoring: the service returned to its baseline"})
		return
	}
	r.logf("post-rollback monitoring: the service did NOT return to its baseline: %v", pm.Problems)
	r.event(evidence.Note{Text: fmt.Sprintf("post-rollback monitoring: the service did not return to its baseline: %v", pm.Problems)})
	r.notifyNow(ctx, "post_rollback", fmt.Sprintf("poolpilot: plan %s rolled back, but the service did not return to its baseline: %v", r.p.Name, pm.Problems))
}

// returnProblems lists why the service is not back at its baseline; none
// means it is.
func returnProblems(last *criteria.Evaluation, after *snapshot, base *evidence.Aggregate, interrupted string) []string {
	var out []string
	if interrupted != "" {
		out = append(out, "monitoring interrupted: "+interrupted)
	}
	if last == nil {
		return append(out, "no evaluation happened")
	}
	for _, res := range last.Results {
		if res.Role == poolpilot.RoleRollback && (res.State == criteria.StateFiring || res.State == criteria.StatePending) {
			out = append(out, fmt.Sprintf("rollback trigger %s still %s: %s", res.Name, res.State, res.Reason))
		}
	}
	out = append(out, after.unanswered()...)
	if base == nil {
		return append(out, "no baseline to compare with")
	}
	a := after.fleet()
	if a.ErrorRate > base.ErrorRate+returnErrorRateAbs {
		out = append(out, fmt.Sprintf("error rate %s, baseline %s", criteria.HumanPercent(a.ErrorRate), criteria.HumanPercent(base.ErrorRate)))
	}
	if limit := max(base.LatencyP95MS*returnLatencyRel, base.LatencyP95MS+returnLatencyAbsMS); a.LatencyP95MS > limit {
		out = append(out, "p95 latency "+criteria.HumanMillis(a.LatencyP95MS)+", baseline "+criteria.HumanMillis(base.LatencyP95MS))
	}
	return out
}
