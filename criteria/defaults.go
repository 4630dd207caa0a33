package criteria

import (
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot"
)

// SeedTargets are the pool settings the seed's success criteria check.
type SeedTargets struct {
	Max int // the seed: 200
	Min int // the seed: 20
}

// SeedSustain is the seed's "sustained 60 minutes without issues": the
// window of the success verdict.
const SeedSustain = 60 * time.Minute

func dur(d time.Duration) poolpilot.Duration { return poolpilot.Duration(d) }

// SeedDefaults returns the seed's success criteria and rollback triggers
// (PHASE1_EXECUTION_READINESS.md, "Success criteria", "Rollback procedure"
// and "Incident response"), with the pool targets as parameters. The
// success verdict window is SeedSustain.
func SeedDefaults(t SeedTargets) []poolpilot.CriterionSpec {
	if t.Max == 0 && t.Min == 0 {
		t = SeedTargets{Max: 200, Min: 20}
	}
	succ := func(name, expr, desc string) poolpilot.CriterionSpec {
		return poolpilot.CriterionSpec{Name: name, Expr: expr, Description: desc, Role: poolpilot.RoleSuccess}
	}
	rb := func(name, expr, class string, d time.Duration, desc string) poolpilot.CriterionSpec {
		return poolpilot.CriterionSpec{Name: name, Expr: expr, Description: desc, Role: poolpilot.RoleRollback, Class: class, For: dur(d)}
	}
	return []poolpilot.CriterionSpec{
		succ("pool-max", fmt.Sprintf("pool.max == %d", t.Max), "Pool max = target (verified via health endpoint)"),
		succ("pool-min", fmt.Sprintf("pool.min == %d", t.Min), "Pool min = target (verified via health endpoint)"),
		succ("pool-utilization", "pool.utilization < 0.7", "Pool utilization < 70% under normal load"),
		succ("pool-wait-p95", "pool.wait_p95_ms < 10", "Connection wait time p95 < 10 ms"),
		succ("error-rate", "error_rate < 0.001", "Error rate < 0.1%"),
		succ("latency-p95", "latency_p95_ms < 500", "p95 latency < 500 ms"),
		rb("error-rate-high", "error_rate > 0.01", poolpilot.ClassP0, 5*time.Minute, "Error rate > 1% sustained 5 minutes (P0: error rate > 1%)"),
		rb("latency-p95-high", "latency_p95_ms > 1000", poolpilot.ClassP1, 5*time.Minute, "p95 latency > 1 s sustained 5 minutes (P1: performance degradation)"),
		rb("connection-thrashing", "thrashing == 1", poolpilot.ClassP1, 5*time.Minute, "Connection thrashing detected, sustained 5 minutes (P1)"),
		rb("db-cpu-high", "db.cpu > 0.9", poolpilot.ClassP1, 5*time.Minute, "Database CPU > 90% sustained 5 minutes"),
		rb("pool-saturation", "pool.utilization > 0.9", poolpilot.ClassP1, 15*time.Minute, "Database pool saturation > 90% (P1: rollback if not resolved in 15 minutes)"),
		rb("integrity", "integrity_ok == 0", poolpilot.ClassP0, 0, "Data integrity issue, tenant isolation violation or calculation error (P0: immediate)"),
		rb("load-violations", "violations > 0", poolpilot.ClassP0, 0, "Violations counted by the load generator: wrong balance, another tenant's rows (P0: immediate)"),
		rb("downtime", "downtime_s > 300", poolpilot.ClassP0, 0, "System downtime > 5 minutes (P0)"),
	}
}
