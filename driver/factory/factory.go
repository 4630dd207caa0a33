// Package factory builds the plan's driver: the one place that maps
// plan.driver to a driver package. Everything else asks the driver what it
// needs and how it describes itself through the optional interfaces of
// package driver (and FleetFacter here), never by its name.
//
// A new driver is a package under driver/ that implements change.Driver
// and the interfaces that apply to it, a case in New, and its name in
// plan validation.
package factory

import (
	"fmt"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/driver/admin"
	"github.com/poolpilot/poolpilot/driver/kube"
	"github.com/poolpilot/poolpilot/driver/restart"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/preflight"
)

// FleetFacter is a driver that reads the plan's instances from an
// orchestrator for preflight (kube: replicas, the HPA's maximum, maxSurge
// and the pool env of each Deployment).
type FleetFacter interface {
	FleetFacts() preflight.FleetFacts
}

// New builds the driver p.Driver names. Driver calls retry transient
// failures within the verify timeout (kube: within its rollout timeout,
// rollout.rollout_timeout or kube.DefaultTimeout). getenv reads the
// credentials the driver needs when it applies (nil: none are set).
//
// A driver that cannot reach what it drives is returned with a
// *driver.UnreachableError: it can describe its change, not apply it.
// Any other error means there is no driver (an unknown name).
func New(p *plan.Plan, getenv func(string) string) (change.Driver, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	retry := driver.Retry{Within: p.Rollout.VerifyTimeout.D()}
	switch p.Driver {
	case plan.DriverAdmin:
		return &admin.Driver{Getenv: getenv, Retry: retry}, nil
	case plan.DriverRestart:
		return &restart.Driver{Retry: retry}, nil
	case plan.DriverKube:
		return kube.New(p, p.Kubeconfig)
	}
	return nil, fmt.Errorf("%q is not a driver: use %s, %s or %s", p.Driver, plan.DriverAdmin, plan.DriverRestart, plan.DriverKube)
}
