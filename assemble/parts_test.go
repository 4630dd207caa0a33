package assemble

import (
	"path/filepath"
	"testing"

	"github.com/poolpilot/poolpilot/plan"
)

// size --plan counts a kube plan's instances as preflight does: from the
// cluster. The driver says so (factory.FleetFacter), even when the cluster
// cannot be reached; the others count the plan's instances.
func TestFleetFromCluster(t *testing.T) {
	for _, c := range []struct {
		driver string
		want   bool
	}{{plan.DriverAdmin, false}, {plan.DriverRestart, false}, {plan.DriverKube, true}} {
		p := testPlan(t)
		p.Driver, p.Kubeconfig = c.driver, filepath.Join(t.TempDir(), "no-such-kubeconfig")
		if got := FleetFromCluster(p); got != c.want {
			t.Errorf("driver %s: FleetFromCluster %v, want %v", c.driver, got, c.want)
		}
	}
}
