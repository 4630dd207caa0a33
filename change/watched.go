package change

import (
	"context"
	"fmt"

	"github.com/poolpilot/poolpilot/evidence"
)

// watched runs a watched phase (load test, soak) and turns its verdict
// into the next state: next, or rolling-back.
func (c *Controller) watched(ctx context.Context, phase func(context.Context) (Verdict, error), next State, name string) (State, string, error) {
	if phase == nil {
		return next, "", nil
	}
	v, err := phase(ctx)
	if lerr := leaving(ctx); lerr != nil {
		return "", "", lerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return StateRollingBack, name + " interrupted: " + causeText(ctx), nil
		}
		return StateRollingBack, name + " failed: " + err.Error(), nil
	}
	if v.Rollback {
		c.auditVerdict(ctx, v, name)
		return StateRollingBack, fmt.Sprintf("%s: %s", v.Criterion, v.Reason), nil
	}
	return next, "", nil
}

// auditVerdict records a criterion that ended a watched phase (and the
// incident of its class).
func (c *Controller) auditVerdict(ctx context.Context, v Verdict, phase string) {
	if v.Criterion != "" && !v.Manual {
		c.event(evidence.CriterionFired{Name: v.Criterion, Role: v.Role, Class: v.Class, Reason: v.Reason, Phase: phase})
	}
	if v.Class != "" {
		c.event(evidence.Incident{Class: v.Class, Name: v.Criterion, Detail: v.Reason})
		c.notify(ctx, "incident", fmt.Sprintf("plan %s: %s incident: %s", c.Plan.Name, v.Class, v.Reason))
	}
}
