package change

import (
	"context"
	"fmt"
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
		c.event("criterion_fired", map[string]any{"name": v.Criterion, "role": v.Role, "class": v.Class, "reason": v.Reason, "phase": phase})
	}
	if v.Class != "" {
		c.event("incident", map[string]any{"class": v.Class, "name": v.Criterion, "detail": v.Reason})
		c.notify(ctx, "incident", fmt.Sprintf("plan %s: %s incident: %s", c.Plan.Name, v.Class, v.Reason))
	}
}
