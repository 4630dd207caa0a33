package preflight

import (
	"context"
	"fmt"
	"strings"
)

// CriteriaSources tells which of the plan's criteria no source can feed
// (no Prometheus for a promql criterion, no database for db.*, no
// integrity probe…), without starting any poller.
type CriteriaSources interface {
	Unfed(ctx context.Context) ([]UnfedCriterion, error)
}

// UnfedCriterion is a criterion whose metric no source provides, and why.
type UnfedCriterion struct {
	Name     string `json:"name"`
	Metric   string `json:"metric"`
	Reason   string `json:"reason"`
	Optional bool   `json:"optional,omitempty"`
}

// criteriaSourcesCheck fails for a criterion no source can feed: a run
// would otherwise watch less than the plan says. An optional criterion is
// a warning (the run skips it and records criterion_skipped).
func (pf *Checker) criteriaSourcesCheck(ctx context.Context) Check {
	c := Check{ID: "criteria_sources", Title: "Every criterion has a source"}
	if pf.Sources == nil {
		c.Status, c.Detail = CheckSkip, "not checked: no source assembly given"
		return c
	}
	unfed, err := pf.Sources.Unfed(ctx)
	if err != nil {
		c.Status, c.Detail = CheckFail, fmt.Sprintf("cannot assemble the sources: %v", err)
		return c
	}
	var fail, warn []string
	for _, u := range unfed {
		line := fmt.Sprintf("criterion %q: metric %s: %s", u.Name, u.Metric, u.Reason)
		if u.Optional {
			warn = append(warn, line)
		} else {
			fail = append(fail, line)
		}
	}
	if len(unfed) > 0 {
		c.Data = unfed
	}
	switch {
	case len(fail) > 0:
		c.Status = CheckFail
		c.Detail = "no source can feed " + strings.Join(fail, "; ") + ". Give the source (prometheus.url, the database, …) or mark the criterion optional: true to run without it"
		if len(warn) > 0 {
			c.Detail += "; optional, skipped: " + strings.Join(warn, "; ")
		}
	case len(warn) > 0:
		c.Status, c.Detail = CheckWarn, "optional criteria the run will skip: "+strings.Join(warn, "; ")
	default:
		c.Status, c.Detail = CheckPass, fmt.Sprintf("a source feeds each of the %d criteria", len(pf.Plan.Criteria))
	}
	return c
}
