package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/preflight"
)

// DefaultTimeout bounds the wait for a rollout when the plan sets no
// rollout.rollout_timeout.
const DefaultTimeout = 10 * time.Minute

// restartLogHeader opens restart_log.txt: Kubernetes, not poolpilot,
// restarts the pods.
const restartLogHeader = "No restart command was run: driver kube patches each Deployment's env and\n" +
	"Kubernetes restarts its pods in a rolling update, waited for below.\n\n"

// WaitTimeout is how long Apply waits for a rollout (driver.Waiter).
func (d *Driver) WaitTimeout() time.Duration { return d.timeout() }

// RestartLog: the patches and rollouts by which Kubernetes restarted the
// pods (driver.RestartLogger).
func (d *Driver) RestartLog() driver.RestartLog {
	return driver.RestartLog{Header: restartLogHeader, Restarts: true}
}

// DescribeChange is the exact patch for inst at size and, for the forward
// change, the budget arithmetic from the cluster (driver.Describer).
func (d *Driver) DescribeChange(ctx context.Context, inst plan.Instance, size plan.PoolSize) []string {
	if d.Client == nil {
		return []string{fmt.Sprintf("%s: patch %s to DB_POOL_MAX=%d DB_POOL_MIN=%d (cluster not readable: patch not computed)", inst.Name, inst.Kube, size.Max, size.Min)}
	}
	if size == d.From {
		return []string{fmt.Sprintf("%s: restore exactly the env recorded in the Deployment's annotation %s by the forward patch (values, valueFrom references, absent variables), then wait for the rollout", inst.Name, Annotation)}
	}
	res, err := d.DryRun(ctx, inst, size)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", inst.Name, err)}
	}
	out := []string{fmt.Sprintf("%s: %s now %s", inst.Name, res.Target, res.Previous)}
	if len(res.Patch) == 0 {
		out = append(out, fmt.Sprintf("%s: no patch (the env is already %d:%d)", inst.Name, size.Max, size.Min))
	} else {
		out = append(out, fmt.Sprintf("%s: strategic-merge patch of apps/v1 Deployment %s/%s:", inst.Name, res.Target.Namespace, res.Target.Deployment), "  "+string(res.Patch))
	}
	out = append(out, fmt.Sprintf("%s: wait for the rollout (up to %s), budget:", inst.Name, d.timeout()))
	for _, l := range strings.Split(strings.TrimRight(res.Budget, "\n"), "\n") {
		out = append(out, "  "+l)
	}
	return out
}

// FleetFacts reads each plan instance's Deployment for preflight:
// replicas, the HPA's maximum, maxSurge and the container's pool env
// (factory.FleetFacter). A driver that could not reach the cluster
// answers every instance with that error.
func (d *Driver) FleetFacts() preflight.FleetFacts { return fleetFacts{d} }

type fleetFacts struct{ d *Driver }

func (k fleetFacts) Instance(ctx context.Context, in plan.Instance) (preflight.FleetInstance, error) {
	if k.d.Client == nil {
		return preflight.FleetInstance{}, k.d.unreachable()
	}
	t, err := TargetOf(in)
	if err != nil {
		return preflight.FleetInstance{}, err
	}
	f, err := ReadFleet(ctx, k.d, t)
	if err != nil {
		return preflight.FleetInstance{}, err
	}
	snap, err := k.d.Snapshot(ctx, t)
	if err != nil {
		return preflight.FleetInstance{}, err
	}
	hpa := "no HPA"
	if f.HPA != "" {
		hpa = "HPA " + f.HPA + " maxReplicas"
	}
	surge := fmt.Sprintf("maxSurge %s rounded up", f.SurgeSpec)
	if f.Strategy == "Recreate" {
		surge = "strategy Recreate"
	}
	fi := preflight.FleetInstance{Target: snap.Target.String(), Replicas: f.Replicas, MaxReplicas: f.MaxReplicas, MaxSurge: f.MaxSurge,
		Arithmetic: fmt.Sprintf("deployment %s/%s: replicas %d, max replicas %d (%s), surge %d (%s)",
			t.Namespace, t.Deployment, f.Replicas, f.MaxReplicas, hpa, f.MaxSurge, surge)}
	for _, e := range snap.Env {
		fe := preflight.FleetEnv{Name: e.Name, Present: e.Present, Value: e.Value}
		if e.ValueFrom != nil {
			b, _ := json.Marshal(e.ValueFrom)
			fe.Ref, fe.Value = "valueFrom "+string(b), ""
		}
		fi.Env = append(fi.Env, fe)
	}
	return fi, nil
}
