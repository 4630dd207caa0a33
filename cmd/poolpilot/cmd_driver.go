package main

import (
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/driver/factory"
	"github.com/poolpilot/poolpilot/plan"
)

// driverPreflight gives preflight what the plan's driver declares: the
// variables it reads (credentials_present) and, for an orchestrator
// (kube), the fleet facts, unless the caller gave its own.
func driverPreflight(pf *change.Preflight, e *env, p *plan.Plan) {
	d, _ := factory.New(p, e.getenv) // an unreachable cluster: its fleet facts answer with the reason
	if n, ok := d.(driver.EnvNeeder); ok {
		pf.DriverEnv = n.NeededEnv
	}
	if f, ok := d.(factory.FleetFacter); ok && pf.Fleet == nil {
		pf.Fleet = f.FleetFacts()
	}
}
