package runner

import (
	"regexp"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/plan"
)

// soakJudge applies the soak's rules (docs/run.md, the verdict) to each
// evaluation of a watched phase: the soak, or one step of a staircase.
type soakJudge struct {
	w      *watchedTime
	start  time.Time     // the phase's start: a breach counts from here at the earliest
	grace  time.Duration // 3 evaluation intervals
	settle time.Duration // how long a phase whose time is up waits for its criteria
	total  time.Duration // the phase's watched time
	before time.Duration // watched before a resume
	// skip names success criteria not judged in this phase: those on the
	// pool's size (pool.max, pool.min), written for change.to, at a step
	// or a settled size below it — verify checked that size instead.
	skip map[string]bool
}

// sizeExpr matches a criterion on the pool's configured size.
var sizeExpr = regexp.MustCompile(`\bpool\.(max|min)\b`)

// sizeCriteria names the plan's success criteria on the pool's size, when
// the phase runs at a size other than change.to (nil otherwise).
func (r *runner) sizeCriteria(size plan.PoolSize) map[string]bool {
	if size == r.p.Change.To {
		return nil
	}
	skip := map[string]bool{}
	for _, c := range r.p.Criteria {
		if c.Role == poolpilot.RoleSuccess && sizeExpr.MatchString(c.Expr) {
			skip[c.Name] = true
		}
	}
	return skip
}

// without returns ev without the results of the skipped criteria.
func without(ev criteria.Evaluation, skip map[string]bool) criteria.Evaluation {
	if len(skip) == 0 {
		return ev
	}
	out := ev
	out.Results = nil
	for _, res := range ev.Results {
		if !skip[res.Name] {
			out.Results = append(out.Results, res)
		}
	}
	return out
}

// withoutLast is without for the last evaluation (nil stays nil).
func withoutLast(ev *criteria.Evaluation, skip map[string]bool) *criteria.Evaluation {
	if ev == nil {
		return nil
	}
	e := without(*ev, skip)
	return &e
}

// judge returns the verdict that ends the phase early (a gap longer than
// max_inconclusive, a rollback trigger, a failed success criterion), or
// done once the watched time is up and every success criterion settled.
// tick, if set, runs after the watched time was counted.
func (j *soakJudge) judge(ev criteria.Evaluation, tick func()) (change.Verdict, bool) {
	ev = without(ev, j.skip)
	if gapFailed, why := j.w.tick(ev); gapFailed {
		return change.Verdict{Rollback: true, Criterion: "watched-time", Role: poolpilot.RoleSuccess, Reason: why}, true
	}
	if tick != nil {
		tick()
	}
	if ev.Decision != nil {
		return decisionVerdict(ev.Decision), true
	}
	for _, res := range ev.Results {
		if res.Role != poolpilot.RoleSuccess {
			continue
		}
		if failed, why := successFailed(res, j.start, ev.Time, j.grace); failed {
			return change.Verdict{Rollback: true, Criterion: res.Name, Role: poolpilot.RoleSuccess, Reason: why}, true
		}
	}
	watched := j.before + j.w.watched
	if watched < j.total {
		return change.Verdict{}, false
	}
	// The time is up. A success criterion still pending or inconclusive
	// has not been seen to hold: wait for it to settle — back to ok, or
	// failed by the rule above — for at most settle.
	if unsettled(ev) && watched < j.total+j.settle {
		return change.Verdict{}, false
	}
	return change.Verdict{}, true
}
