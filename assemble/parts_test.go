package assemble

import (
	"path/filepath"
	"strings"
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

// A run builds its driver once: preflight (RunPreflight) and the run ask
// the same one.
func TestRunBuildsItsDriverOnce(t *testing.T) {
	r := &Run{Plan: testPlan(t), Getenv: func(string) string { return "" }}
	d1, err := r.BuildDriver()
	if err != nil || d1 == nil {
		t.Fatalf("driver %v, err %v", d1, err)
	}
	if d2, _ := r.BuildDriver(); d2 != d1 {
		t.Errorf("built again: %p then %p", d1, d2)
	}
	r.Plan.Driver = "helm"
	bad := &Run{Plan: r.Plan}
	if _, err := bad.BuildDriver(); err == nil || !strings.Contains(err.Error(), `"helm" is not a driver`) {
		t.Errorf("unknown driver: %v", err)
	}
	if _, err := bad.BuildDriver(); err == nil {
		t.Error("the second call forgot the error")
	}
}
