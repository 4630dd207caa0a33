package runner

import (
	"context"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/source/health"
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
	var docs []health.InstanceDoc
	for _, in := range r.p.Instances {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		d, err := dp.Document(dctx, in)
		cancel()
		if d.Fields == nil {
			return specs // an instance did not answer: nothing to judge by
		}
		docs = append(docs, health.InstanceDoc{Instance: in.Name, Doc: d, Err: err})
	}
	feeds := health.Feeds(specs, docs)
	var kept []poolpilot.CriterionSpec
	for i, c := range specs {
		f := feeds[i]
		if c.Optional && f.Source == health.Name && (f.Status == health.FeedNone || f.Status == health.FeedUnknown) {
			r.event(evidence.CriterionSkipped{Name: c.Name, Metric: f.Metric, Reason: f.Detail, Optional: true})
			r.logf("warning: optional criterion %s skipped: %s", c.Name, f.Detail)
			continue
		}
		kept = append(kept, c)
	}
	return kept
}
