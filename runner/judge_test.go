package runner

import (
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/plan"
)

// At a step below change.to the criteria on the pool's size (written for
// change.to) are not judged; the others are, and at change.to all are.
func TestSizeCriteriaAreNotJudgedBelowTheTarget(t *testing.T) {
	p := &plan.Plan{Change: plan.Change{To: plan.PoolSize{Max: 100, Min: 10}}, Criteria: []poolpilot.CriterionSpec{
		{Name: "pool_max", Role: poolpilot.RoleSuccess, Expr: "pool.max == 100"},
		{Name: "pool_min", Role: poolpilot.RoleSuccess, Expr: "pool.min == 10"},
		{Name: "pool_utilization", Role: poolpilot.RoleSuccess, Expr: "pool.utilization < 0.7"},
		{Name: "sat", Role: poolpilot.RoleRollback, Expr: "pool.max < 5"},
	}}
	r := &runner{p: p}
	skip := r.sizeCriteria(plan.PoolSize{Max: 20, Min: 10})
	if len(skip) != 2 || !skip["pool_max"] || !skip["pool_min"] {
		t.Errorf("skipped %v, want pool_max and pool_min", skip)
	}
	if s := r.sizeCriteria(p.Change.To); s != nil {
		t.Errorf("at change.to skipped %v, want none", s)
	}
	now := time.Now()
	ev := criteria.Evaluation{Time: now, Results: []criteria.Result{
		{Name: "pool_max", Role: poolpilot.RoleSuccess, State: criteria.StateFiring, Since: now.Add(-time.Minute), Expr: "pool.max == 100"},
		{Name: "pool_utilization", Role: poolpilot.RoleSuccess, State: criteria.StateOK},
	}}
	j := &soakJudge{w: newWatchedTime(time.Second, time.Minute), start: now.Add(-time.Minute), grace: 3 * time.Second, total: time.Hour, skip: skip}
	if v, done := j.judge(ev, nil); v.Rollback || done {
		t.Errorf("a step at 20 failed on pool_max: %+v", v)
	}
	j.skip = nil
	if v, _ := j.judge(ev, nil); !v.Rollback || v.Criterion != "pool_max" {
		t.Errorf("at change.to pool_max firing for a minute must fail: %+v", v)
	}
}
