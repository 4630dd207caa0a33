package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/loadgen"
)

// soakOutcome is what the soak concluded, for sustained_monitoring.json.
type soakOutcome struct {
	started, ended time.Time
	verdict        string
	reason         string
	watched        time.Duration
	gaps           []evidence.WatchGap
	coverage       []evidence.CriterionCoverage
	minCoverage    float64
	client         []evidence.ClientInstance
}

// decisionVerdict turns the engine's rollback decision into a verdict.
func decisionVerdict(d *criteria.Decision) change.Verdict {
	return change.Verdict{Rollback: true, Criterion: d.Criterion, Class: d.Class, Role: poolpilot.RoleRollback, Reason: d.Reason}
}

func (r *runner) loadTest(ctx context.Context) (change.Verdict, error) {
	v, _, err := r.runLoadTest(ctx)
	return v, err
}

// runLoadTest runs the plan's load test and returns its verdict and the
// load generator's report (nil when no load ran).
func (r *runner) runLoadTest(ctx context.Context) (change.Verdict, *loadgen.Report, error) {
	m, err := r.ensureMonitor(ctx)
	if err != nil {
		return change.Verdict{}, nil, err
	}
	lt := r.p.LoadTest
	if lt.Workload == "none" {
		r.logf("load test: workload none, skipped")
		return change.Verdict{}, nil, nil
	}
	started := r.clock.Now().UTC()
	lr, err := r.startLoad(ctx, lt.Rate, lt.Duration.D())
	if err != nil {
		return change.Verdict{}, nil, fmt.Errorf("load test: %w", err)
	}
	r.logf("load test: %s at %g/s for %s", lr.target, lt.Rate, lt.Duration)
	var v change.Verdict
	prog := r.progressFn("load-test", lt.Duration.D())
	err = m.Run(ctx, 0, func(ev criteria.Evaluation) bool {
		prog(ev)
		if ev.Decision != nil {
			v = decisionVerdict(ev.Decision)
			return true
		}
		select {
		case <-lr.done:
			return true
		default:
			return false
		}
	})
	lr.stop()
	r.after = r.snapshot(ctx)
	r.writeLoadResults(lr, started, v, r.cv.take())
	r.checkpoint()
	if err != nil {
		return change.Verdict{}, lr.rep, err
	}
	if v.Rollback {
		return v, lr.rep, nil
	}
	if lr.err != nil {
		return change.Verdict{}, lr.rep, fmt.Errorf("load generator: %w", lr.err)
	}
	return v, lr.rep, nil
}

func (r *runner) writeLoadResults(lr *loadRun, started time.Time, v change.Verdict, client []evidence.ClientInstance) {
	rep := lr.rep
	if rep == nil {
		rep = &loadgen.Report{}
	}
	res := evidence.LoadTestResults{
		Started: started, Ended: r.clock.Now().UTC(), Target: lr.target, Workload: r.p.LoadTest.Workload,
		DurationSeconds: rep.DurationS, TargetRate: rep.TargetRate, AchievedRate: rep.AchievedRate,
		Requests: rep.Requests, Errors: rep.Errors, ErrorRate: rep.ErrorRate, Late: rep.Late,
		LatencyMS: evidence.LoadLatency{P50: rep.LatencyMS.P50, P95: rep.LatencyMS.P95, P99: rep.LatencyMS.P99, Max: rep.LatencyMS.Max},
		LagMS:     &evidence.LoadLatency{P95: rep.LagMS.P95, Max: rep.LagMS.Max},
		Passed:    !v.Rollback && lr.err == nil && rep.Violations == 0,
		Client:    client,
	}
	if rep.Pool != nil {
		res.Pool = &evidence.LoadPool{WaitP95MS: rep.Pool.WaitP95MS, UtilizationMax: rep.Pool.UtilizationMax}
	}
	for _, s := range rep.Series {
		if !s.Warmup {
			res.Series = append(res.Series, evidence.LoadSecond{Second: s.T, Requests: s.Requests, Errors: s.Errors, P50MS: s.P50MS, P95MS: s.P95MS, P99MS: s.P99MS})
		}
	}
	if v.Rollback {
		res.Failures = append(res.Failures, fmt.Sprintf("rollback trigger %s fired during the load test: %s", v.Criterion, v.Reason))
	}
	if lr.err != nil {
		res.Failures = append(res.Failures, "load generator: "+lr.err.Error())
	}
	if rep.Violations > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%d correctness violations: %v", rep.Violations, rep.ViolationSamples))
	}
	r.writeJSON(evidence.FileSyntheticLoadTest, res)
}

// soakStart is when the journal entered soak (now, if never).
func (r *runner) soakStart() time.Time {
	for _, rec := range r.journal.Records() {
		if rec.Kind == "state" && rec.State == change.StateSoak {
			return rec.Time
		}
	}
	return r.clock.Now()
}

// soakObservedNote is the journal note that records how much of the soak
// has been watched, so that a resumed run watches only the rest.
const soakObservedNote = "soak_observed"

// soakObserved is the soak time watched before a crash, from the journal's
// last soak_observed note (at most checkpointEvery old): the time the
// controller was down is not counted, since nobody watched the criteria.
func soakObserved(recs []change.Record) time.Duration {
	d, _, _ := soakObservedProgress(recs)
	return d
}

// maxInconclusive is the plan's evaluation.max_inconclusive, or the smaller
// of 60 s and a tenth of the soak.
func (r *runner) maxInconclusive() time.Duration {
	if d := r.p.Evaluation.MaxInconclusive.D(); d > 0 {
		return d
	}
	return min(time.Minute, r.p.Soak.Duration.D()/10)
}

func (r *runner) minCoverage() float64 {
	if c := r.p.Evaluation.MinCoverage; c > 0 {
		return c
	}
	return DefaultMinCoverage
}

// soakPhase watches for soak.duration of watched time (what is left of it
// after a resume): time during which evaluations happened. It rolls back
// when a rollback trigger fires; when a success criterion fails (violated
// at every evaluation, within the soak, for max(its for, 3 evaluation
// intervals), or inconclusive longer than max_inconclusive); or when no
// evaluation happened for longer than max_inconclusive. At the end it
// succeeds only if every success criterion is ok at the last evaluation,
// every instance answers its last probe, and every success criterion was
// conclusive for at least evaluation.min_coverage of the watched time.
func (r *runner) soakPhase(ctx context.Context) (change.Verdict, error) {
	m, err := r.ensureMonitor(ctx)
	if err != nil {
		return change.Verdict{}, err
	}
	start := r.soakStart()
	total := r.p.Soak.Duration.D()
	observed, earlierConc, earlierGaps := soakObservedProgress(r.journal.Records())
	left := max(total-observed, time.Second)
	r.soak.started = start.UTC()
	r.logf("soak: %s (%s left), background load %g/s", total, left.Round(time.Second), r.p.Soak.Rate)
	if observed > 0 || r.o.ResumeDir != "" {
		r.logf("soak resumed: %s of it was observed before; the time the controller was down does not count", observed.Round(time.Second))
	}
	maxInc := r.maxInconclusive()
	// The load runs past the soak's planned end: a soak is extended by its
	// gaps (up to max_inconclusive); stopLoad ends it with the soak.
	r.cv.restart()
	stopLoad := r.background(ctx, r.p.Soak.Rate, left+maxInc+r.settleLimit(3*m.Interval(), maxInc), "soak")
	grace := 3 * m.Interval()
	settle := r.settleLimit(grace, maxInc)
	w := newWatchedTime(m.Interval(), maxInc)
	// Watched time runs from the soak's start: a controller frozen between
	// journalling the soak and its first evaluation watched nothing either.
	// A resumed soak counts from now (the outage is not watched time, and
	// the journal's progress note says how much was).
	w.prev = start
	if r.o.ResumeDir != "" {
		w.prev = time.Now()
	}
	var v change.Verdict
	lastCheckpoint := time.Now()
	var skip map[string]bool
	if size, settled := change.SettledSize(r.journal.Records()); settled {
		skip = r.sizeCriteria(size)
	}
	j := &soakJudge{w: w, start: start, grace: grace, settle: settle, total: total, before: observed, skip: skip}
	err = m.Run(ctx, 0, func(ev criteria.Evaluation) bool {
		var done bool
		v, done = j.judge(ev, func() {
			r.progressLine("soak", observed+w.watched, total, ev)
			if time.Since(lastCheckpoint) >= checkpointEvery {
				lastCheckpoint = time.Now()
				r.checkpoint()
				r.journalSoakProgress(w, observed, earlierConc, earlierGaps)
			}
		})
		return done
	})
	stopLoad()
	r.after = r.snapshot(ctx)
	r.soak.ended = r.clock.Now().UTC()
	r.soak.watched = observed + w.watched
	r.soak.gaps = append(append([]evidence.WatchGap(nil), earlierGaps...), w.gaps...)
	r.soak.coverage = w.coverage(earlierConc, observed)
	r.soak.minCoverage = r.minCoverage()
	r.soak.client = r.cv.take()
	r.journalSoakProgress(w, observed, earlierConc, earlierGaps)
	if err != nil {
		r.soak.verdict, r.soak.reason = evidence.VerdictFail, "interrupted: "+causeOf(ctx)
		return change.Verdict{}, err
	}
	if !v.Rollback {
		v = endVerdict(withoutLast(m.Last(), skip), r.after.unanswered(), r.soak.coverage, r.soak.minCoverage)
	}
	if v.Rollback {
		r.soak.verdict, r.soak.reason = evidence.VerdictFail, v.Criterion+": "+v.Reason
	} else {
		r.soak.verdict = evidence.VerdictPass
	}
	return v, nil
}

// settleLimit bounds how long a soak whose time is up waits for its
// success criteria to settle: the longest a success criterion may be
// violated before it fails, plus max_inconclusive.
func (r *runner) settleLimit(grace, maxInc time.Duration) time.Duration {
	longest := grace
	for _, c := range r.p.Criteria {
		if c.Role == poolpilot.RoleSuccess {
			longest = max(longest, c.For.D())
		}
	}
	return longest + maxInc
}

// unsettled reports whether a success criterion is pending or
// inconclusive: on its way to failing, or without data.
func unsettled(ev criteria.Evaluation) bool {
	for _, res := range ev.Results {
		if res.Role == poolpilot.RoleSuccess && (res.State == criteria.StatePending || res.State == criteria.StateInconclusive) {
			return true
		}
	}
	return false
}

// successFailed applies the soak's rule to one success criterion.
func successFailed(res criteria.Result, soakStart, now time.Time, grace time.Duration) (bool, string) {
	if res.State != criteria.StateFiring && res.State != criteria.StatePending {
		return false, ""
	}
	need := max(time.Duration(res.ForS*float64(time.Second)), grace)
	since := res.Since
	if since.Before(soakStart) {
		since = soakStart
	}
	held := now.Sub(since)
	if res.State == criteria.StateFiring && res.Reason != "" && len(res.Reason) > 12 && res.Reason[:12] == "inconclusive" {
		return true, "success criterion failed: " + res.Reason
	}
	if held >= need {
		return true, fmt.Sprintf("success criterion %s failed: %s (violated for %s within the soak)", res.Expr, res.Reason, held.Round(time.Second))
	}
	return false, ""
}

func causeOf(ctx context.Context) string {
	if c := context.Cause(ctx); c != nil {
		return c.Error()
	}
	if ctx.Err() != nil {
		return ctx.Err().Error()
	}
	return ""
}
