package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/plan"
)

// stepPhase watches one applied and verified step of a staircase change:
// the plan's load test (if it has one), then the criteria for step.soak
// of watched time with the soak's background load, judged by the soak's
// rules (soakJudge, endVerdict). The step's throughput and p95 are its
// load test's (a staircase plan has one: plan validation); its database
// figures are the sources' last (connections, CPU).
func (r *runner) stepPhase(ctx context.Context, i int, size plan.PoolSize) (change.StepResult, change.Verdict, error) {
	var res change.StepResult
	m, err := r.ensureMonitor(ctx)
	if err != nil {
		return res, change.Verdict{}, err
	}
	name := fmt.Sprintf("step %d", i+1)
	if r.p.LoadTest.Workload != "none" {
		v, rep, err := r.runLoadTest(ctx)
		stepFigures(&res, rep, "load_test")
		if err != nil || v.Rollback {
			res.DB = r.stepDB(ctx)
			return res, v, err
		}
	}
	total := r.p.StepSoak()
	maxInc := r.maxInconclusive()
	grace := 3 * m.Interval()
	settle := r.settleLimit(grace, maxInc)
	r.logf("%s (%d:%d): watching for %s, background load %g/s", name, size.Max, size.Min, total, r.p.Soak.Rate)
	r.cv.restart()
	stopLoad := r.background(ctx, r.p.Soak.Rate, total+maxInc+settle, name)
	start := r.clock.Now()
	w := newWatchedTime(m.Interval(), maxInc)
	w.prev = time.Now()
	skip := r.sizeCriteria(size)
	j := &soakJudge{w: w, start: start, grace: grace, settle: settle, total: total, skip: skip}
	var v change.Verdict
	err = m.Run(ctx, 0, func(ev criteria.Evaluation) bool {
		var done bool
		v, done = j.judge(ev, func() { r.progressLine(name, w.watched, total, ev) })
		return done
	})
	stopLoad()
	snap := r.snapshot(ctx)
	r.cv.take()
	res.DB = dbFigures(snap)
	if err != nil {
		return res, change.Verdict{}, err
	}
	if !v.Rollback {
		v = endVerdict(withoutLast(m.Last(), skip), snap.unanswered(), w.coverage(nil, 0), r.minCoverage())
	}
	res.Held = !v.Rollback
	if v.Rollback {
		res.Why = v.Criterion + ": " + v.Reason
	}
	return res, v, nil
}

// stepFigures fills a step's throughput (requests answered without error
// per second) and p95 from a load report; a report without requests
// leaves them absent.
func stepFigures(res *change.StepResult, rep *loadgen.Report, source string) {
	if rep == nil || rep.Requests == 0 || rep.DurationS <= 0 {
		return
	}
	tput := float64(rep.Requests-rep.Errors) / rep.DurationS
	p95 := rep.LatencyMS.P95
	res.Throughput, res.P95MS, res.Requests, res.Source = &tput, &p95, rep.Requests, source
}

func (r *runner) stepDB(ctx context.Context) *change.StepDB { return dbFigures(r.snapshot(ctx)) }

// dbFigures is the database's side of a step, from a snapshot (nil when
// the database is not watched).
func dbFigures(s *snapshot) *change.StepDB {
	if s == nil || s.db == nil {
		return nil
	}
	n := s.db.Connections
	return &change.StepDB{Backends: &n, CPUPercent: s.db.CPUPercent}
}
