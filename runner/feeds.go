package runner

import (
	"context"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/change"
)

// unfedOptional drops the optional criteria that no instance's health
// document can feed (a field the service does not send), with a warning
// event, as preflight's criteria_fed check said it would: kept, such a
// criterion would stay inconclusive and fail the soak's coverage. It reads
// each instance's document now, so a resumed run decides the same way.
// Criteria that are not optional are kept: preflight refused the plan if
// none could feed them, and a field that vanished since is a gap the
// criteria engine reports.
func (r *runner) unfedOptional(ctx context.Context, specs []poolpilot.CriterionSpec) []poolpilot.CriterionSpec {
	dp, ok := r.ctl.Prober.(change.DocumentProber)
	if !ok {
		return specs
	}
	kept, skipped := assemble.UnfedOptional(ctx, r.p.Instances, dp, specs)
	for _, sk := range skipped {
		r.event(sk)
		r.logf("warning: optional criterion %s skipped: %s", sk.Name, sk.Reason)
	}
	return kept
}
