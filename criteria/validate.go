package criteria

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot"
)

// Aggregates combine the instances of a fleet-scope criterion.
const (
	AggMax = "max"
	AggMin = "min"
	AggAvg = "avg"
	AggSum = "sum"
)

// Criterion is a validated CriterionSpec with its parsed expression and its
// defaults filled in (scope instance, class P1 for rollback triggers,
// aggregate max for fleet scope).
type Criterion struct {
	poolpilot.CriterionSpec
	Parsed Expr
}

// Key is the Sample.Metric the criterion reads: the Expr metric, or
// PromQLMetric(Query) for PromQL criteria.
func (c Criterion) Key() string {
	if c.Parsed.Metric == poolpilot.MetricPromQL {
		return poolpilot.PromQLMetric(c.Query)
	}
	return c.Parsed.Metric
}

// Breaches reports whether value v breaches the criterion at threshold: a
// success criterion breaches when its Expr is false, a rollback trigger
// when its Expr is true.
func (c Criterion) Breaches(v, threshold float64) bool {
	holds := c.Parsed.Holds(v, threshold)
	if c.Role == poolpilot.RoleSuccess {
		return !holds
	}
	return holds
}

// Compile validates specs and returns them parsed, in order. The error
// lists every problem, each naming the criterion (by name, or by position
// when it has none) and what to change.
func Compile(specs []poolpilot.CriterionSpec) ([]Criterion, error) {
	var errs []error
	out := make([]Criterion, 0, len(specs))
	seen := map[string]int{}
	for i, s := range specs {
		label := fmt.Sprintf("criterion %d", i+1)
		if s.Name != "" {
			label = fmt.Sprintf("criterion %q", s.Name)
		}
		c, err := compileOne(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", label, err))
		}
		if s.Name != "" {
			if j, dup := seen[s.Name]; dup {
				errs = append(errs, fmt.Errorf("%s: duplicate name (criteria %d and %d): names must be unique", label, j+1, i+1))
			}
			seen[s.Name] = i
		}
		out = append(out, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Validate reports every problem of specs, or nil.
func Validate(specs []poolpilot.CriterionSpec) error {
	_, err := Compile(specs)
	return err
}

func compileOne(s poolpilot.CriterionSpec) (Criterion, error) {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if strings.TrimSpace(s.Name) == "" {
		bad("name is empty: give every criterion a unique name")
	}
	c := Criterion{CriterionSpec: s}
	if strings.TrimSpace(s.Expr) == "" {
		bad(`expr is empty: write "METRIC OP VALUE", e.g. "error_rate > 0.01"`)
	} else if x, err := ParseExpr(s.Expr); err != nil {
		bad("expr %q: %v", s.Expr, err)
	} else {
		c.Parsed = x
		if x.Metric == poolpilot.MetricPromQL && strings.TrimSpace(s.Query) == "" {
			bad("metric promql needs a query: set query to a PromQL expression")
		}
		if x.Metric != poolpilot.MetricPromQL && s.Query != "" {
			bad("query is set but the metric is %s: write \"promql %s …\" to use the query", x.Metric, x.Op)
		}
	}
	checkRoleAndScope(&c, bad)
	if s.For.D() < 0 || s.MaxInconclusive.D() < 0 {
		bad("for and max_inconclusive must not be negative")
	}
	if len(errs) > 0 {
		return c, errors.New(strings.Join(errs, "; "))
	}
	return c, nil
}

// checkRoleAndScope validates role, class, scope and aggregate and fills
// in their defaults.
func checkRoleAndScope(c *Criterion, bad func(string, ...any)) {
	s := c.CriterionSpec
	switch s.Role {
	case poolpilot.RoleSuccess:
		if s.Class != "" {
			bad("class %q on a success criterion: classes apply to rollback triggers only; remove it", s.Class)
		}
	case poolpilot.RoleRollback:
		switch s.Class {
		case "":
			c.Class = poolpilot.ClassP1
		case poolpilot.ClassP0, poolpilot.ClassP1:
		default:
			bad("unknown class %q: want P0 or P1", s.Class)
		}
	case "":
		bad("role is empty: want success or rollback")
	default:
		bad("unknown role %q: want success or rollback", s.Role)
	}
	switch s.Scope {
	case "", poolpilot.ScopeInstance:
		c.Scope = poolpilot.ScopeInstance
		if s.Aggregate != "" {
			bad("aggregate %q needs scope fleet (scope is instance)", s.Aggregate)
		}
	case poolpilot.ScopeFleet:
		switch s.Aggregate {
		case "":
			c.Aggregate = AggMax
		case AggMax, AggMin, AggAvg, AggSum:
		default:
			bad("unknown aggregate %q: want max, min, avg or sum", s.Aggregate)
		}
	default:
		bad("unknown scope %q: want instance or fleet", s.Scope)
	}
}

// WithWindow returns a copy of specs in which every criterion that has a
// sustain window (For > 0) has window d instead. Criteria that fire at once
// (For 0, such as the P0 integrity trigger) keep firing at once.
func WithWindow(specs []poolpilot.CriterionSpec, d time.Duration) []poolpilot.CriterionSpec {
	out := append([]poolpilot.CriterionSpec(nil), specs...)
	for i := range out {
		if out[i].For > 0 {
			out[i].For = poolpilot.Duration(d)
		}
	}
	return out
}
