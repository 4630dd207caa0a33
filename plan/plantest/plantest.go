// Package plantest builds plans for tests: the plan `poolpilot plan init`
// writes, parsed as `plan check` parses it. Tests only: it imports testing.
package plantest

import (
	"testing"

	"github.com/poolpilot/poolpilot/plan"
)

// Init returns the plan `plan init` writes for o, parsed, and its text;
// with plan.SeedInitOptions() that is the seed's plan. Any error fails t.
func Init(t testing.TB, o plan.InitOptions) (*plan.Plan, []byte) {
	t.Helper()
	b, err := plan.Init(o)
	if err != nil {
		t.Fatalf("plan init: %v", err)
	}
	p, err := plan.Parse(b)
	if err != nil {
		t.Fatalf("the plan plan init wrote does not parse: %v", err)
	}
	return p, b
}

// Seed is Init of the seed's options.
func Seed(t testing.TB) *plan.Plan {
	t.Helper()
	p, _ := Init(t, plan.SeedInitOptions())
	return p
}
