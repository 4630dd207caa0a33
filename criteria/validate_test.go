package criteria

import (
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
)

func TestCompileErrors(t *testing.T) {
	ok := poolpilot.CriterionSpec{Name: "x", Expr: "error_rate > 0.01", Role: "rollback"}
	with := func(mod func(*poolpilot.CriterionSpec)) []poolpilot.CriterionSpec {
		s := ok
		mod(&s)
		return []poolpilot.CriterionSpec{s}
	}
	cases := []struct {
		specs []poolpilot.CriterionSpec
		want  string
	}{
		{with(func(s *poolpilot.CriterionSpec) { s.Name = "" }), "criterion 1: name is empty"},
		{with(func(s *poolpilot.CriterionSpec) { s.Expr = " " }), `criterion "x": expr is empty`},
		{with(func(s *poolpilot.CriterionSpec) { s.Expr = "error_rate >> 1" }), `criterion "x": expr "error_rate >> 1": at column 13`},
		{with(func(s *poolpilot.CriterionSpec) { s.Role = "" }), "role is empty"},
		{with(func(s *poolpilot.CriterionSpec) { s.Role = "rolback" }), `unknown role "rolback"`},
		{with(func(s *poolpilot.CriterionSpec) { s.Class = "P2" }), `unknown class "P2"`},
		{with(func(s *poolpilot.CriterionSpec) { s.Role, s.Class = "success", "P0" }), "classes apply to rollback triggers only"},
		{with(func(s *poolpilot.CriterionSpec) { s.Scope = "cluster" }), `unknown scope "cluster"`},
		{with(func(s *poolpilot.CriterionSpec) { s.Aggregate = "max" }), `aggregate "max" needs scope fleet`},
		{with(func(s *poolpilot.CriterionSpec) { s.Scope, s.Aggregate = "fleet", "p95" }), `unknown aggregate "p95"`},
		{with(func(s *poolpilot.CriterionSpec) { s.Expr = "promql > 1" }), "metric promql needs a query"},
		{with(func(s *poolpilot.CriterionSpec) { s.Query = "up" }), `query is set but the metric is error_rate`},
		{with(func(s *poolpilot.CriterionSpec) { s.For = poolpilot.Duration(-time.Second) }), "must not be negative"},
		{[]poolpilot.CriterionSpec{ok, ok}, `criterion "x": duplicate name (criteria 1 and 2)`},
	}
	for _, c := range cases {
		_, err := Compile(c.specs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want it to contain %q", c.specs, err, c.want)
		}
	}
	// Every problem is reported, not only the first.
	err := Validate([]poolpilot.CriterionSpec{{Name: "a", Role: "x"}, {Name: "b", Expr: "nope > 1", Role: "success", Scope: "z"}})
	for _, w := range []string{`"a": expr is empty`, `"a": `, `unknown role "x"`, `"b": expr "nope > 1": unknown metric`, `unknown scope "z"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not contain %q", err, w)
		}
	}
}

func TestCompileDefaults(t *testing.T) {
	cs, err := Compile([]poolpilot.CriterionSpec{
		{Name: "a", Expr: "error_rate > 1%", Role: "rollback"},
		{Name: "b", Expr: "pool.max == 200", Role: "success", Scope: "fleet"},
		{Name: "c", Expr: "promql > 5", Query: `sum(rate(x[1m]))`, Role: "rollback", Class: "P0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cs[0].Class != "P1" || cs[0].Scope != "instance" || cs[1].Aggregate != "max" || cs[0].Parsed.Value != 0.01 {
		t.Fatalf("defaults not applied: %+v %+v", cs[0], cs[1])
	}
	if cs[2].Key() != "promql:sum(rate(x[1m]))" || cs[0].Key() != "error_rate" {
		t.Fatalf("keys %q %q", cs[2].Key(), cs[0].Key())
	}
	if !cs[0].Breaches(0.02, 0.01) || cs[1].Breaches(200, 200) || !cs[1].Breaches(10, 200) {
		t.Fatal("Breaches: rollback breaches when true, success when false")
	}
}

func TestSeedDefaults(t *testing.T) {
	specs := SeedDefaults(SeedTargets{Max: 50, Min: 5})
	cs, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Criterion{}
	for _, c := range cs {
		byName[c.Name] = c
	}
	if byName["pool-max"].Parsed.Value != 50 || byName["pool-min"].Parsed.Value != 5 {
		t.Fatalf("targets not used: %+v", byName["pool-max"])
	}
	checks := []struct {
		name, class string
		d           time.Duration
	}{
		{"error-rate-high", "P0", 5 * time.Minute}, {"latency-p95-high", "P1", 5 * time.Minute},
		{"connection-thrashing", "P1", 5 * time.Minute}, {"db-cpu-high", "P1", 5 * time.Minute},
		{"pool-saturation", "P1", 15 * time.Minute}, {"integrity", "P0", 0}, {"downtime", "P0", 0},
	}
	for _, c := range checks {
		got := byName[c.name]
		if got.Role != "rollback" || got.Class != c.class || got.For.D() != c.d {
			t.Errorf("%s: %+v", c.name, got.CriterionSpec)
		}
	}
	if def := SeedDefaults(SeedTargets{}); def[0].Expr != "pool.max == 200" || def[1].Expr != "pool.min == 20" {
		t.Fatalf("zero targets: %v %v", def[0].Expr, def[1].Expr)
	}
	w := WithWindow(specs, 2*time.Second)
	for i, s := range w {
		if specs[i].For == 0 && s.For != 0 || specs[i].For != 0 && s.For.D() != 2*time.Second {
			t.Errorf("WithWindow %s: for %s (was %s)", s.Name, s.For, specs[i].For)
		}
	}
	if specs[6].For.D() != 5*time.Minute {
		t.Fatal("WithWindow changed its input")
	}
}

func TestVocabulary(t *testing.T) {
	for _, name := range []string{"error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "requests", "pool.max", "pool.min", "pool.utilization", "pool.wait_p95_ms", "pool.waiting", "pool.acquire_timeouts", "pool.server_refusals", "pool.churn", "thrashing", "db.cpu", "db.connections", "db.waiting_on_locks", "db.deadlocks", "reachable", "downtime_s", "integrity_ok", "violations", "promql"} {
		if _, ok := LookupMetric(name); !ok {
			t.Errorf("metric %s missing", name)
		}
	}
}
