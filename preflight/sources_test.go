package preflight

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
)

type fakeSources struct {
	unfed []UnfedCriterion
	err   error
}

func (f fakeSources) Unfed(context.Context) ([]UnfedCriterion, error) { return f.unfed, f.err }

func TestCriteriaSourcesCheck(t *testing.T) {
	p := &plan.Plan{Criteria: []poolpilot.CriterionSpec{{Name: "a"}, {Name: "b"}}}
	promA := UnfedCriterion{Name: "a", Metric: "promql:up", Reason: "no Prometheus to query"}
	optB := UnfedCriterion{Name: "b", Metric: "db.cpu", Reason: "not local", Optional: true}
	cases := []struct {
		name   string
		src    CriteriaSources
		status string
		want   []string
	}{
		{"none given", nil, CheckSkip, []string{"not checked"}},
		{"all fed", fakeSources{}, CheckPass, []string{"each of the 2 criteria"}},
		{"unfed", fakeSources{unfed: []UnfedCriterion{promA, optB}}, CheckFail,
			[]string{`criterion "a": metric promql:up: no Prometheus to query`, "optional: true", `optional, skipped: criterion "b"`}},
		{"optional only", fakeSources{unfed: []UnfedCriterion{optB}}, CheckWarn, []string{`criterion "b": metric db.cpu: not local`}},
		{"error", fakeSources{err: errors.New("PROM_TOKEN unset")}, CheckFail, []string{"PROM_TOKEN unset"}},
	}
	for _, c := range cases {
		pf := &Checker{Plan: p, Sources: c.src}
		got := pf.criteriaSourcesCheck(context.Background())
		if got.ID != "criteria_sources" || got.Status != c.status {
			t.Errorf("%s: %s %s, want %s", c.name, got.ID, got.Status, c.status)
		}
		for _, w := range c.want {
			if !strings.Contains(got.Detail, w) {
				t.Errorf("%s: detail %q lacks %q", c.name, got.Detail, w)
			}
		}
	}
}
