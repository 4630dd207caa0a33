package main

import (
	"context"

	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/preflight"
	"github.com/poolpilot/poolpilot/runner"
)

// planSources feeds preflight's criteria_sources check with the sources a
// run would build (assemble.Sources), none of them started, over
// preflight's own tool pool; each promql query is asked once (Probe).
type planSources struct {
	e       *env
	p       *plan.Plan
	pool    *pgpool.Pool // nil: poolErr says why
	poolErr error
}

func (s planSources) Unfed(ctx context.Context) ([]preflight.UnfedCriterion, error) {
	o := assemble.Options{Interval: s.p.Evaluation.Interval.D(), Pool: s.pool, PoolErr: s.poolErr, Pushed: []string{runner.MetricViolations}}
	set, err := assemble.Sources(ctx, s.p, s.e.getenv, o)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	set.Probe(ctx)
	_, unfed, err := set.Split(s.p.Criteria)
	if err != nil {
		return nil, err
	}
	out := make([]preflight.UnfedCriterion, len(unfed))
	for i, u := range unfed {
		out[i] = preflight.UnfedCriterion(u)
	}
	return out, nil
}
