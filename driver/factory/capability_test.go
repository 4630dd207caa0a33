package factory

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/driver/kube"
	"github.com/poolpilot/poolpilot/plan"
)

// What each driver declares, as the controller, preflight and run
// --dry-run read it. The texts are evidence (restart_log.txt) and the dry
// run's output: they must not change.
func TestEachDriversCapabilities(t *testing.T) {
	ctx := context.Background()
	in := plan.Instance{Name: "i1", HealthURL: "http://10.0.0.1:8080/healthz", AdminTokenEnv: "TOKEN_1",
		EnvFile: "/etc/ledgerd.env", RestartCommand: []string{"systemctl", "restart", "ledgerd"}}
	size := plan.PoolSize{Max: 200, Min: 20}
	for _, tc := range []struct {
		driver   string
		env      []string // EnvNeeder; nil: not one
		log      driver.RestartLog
		wait     time.Duration // Waiter; 0: not one
		fleet    bool
		describe []string
	}{
		{driver: plan.DriverAdmin, env: []string{"TOKEN_1"},
			log: driver.RestartLog{LiveResizes: true, Header: "No restart was needed: driver admin resizes each pool live through PUT /admin/pool;\n" +
				"no process was restarted.\n\nLive resizes (time, instance, from -> to, HTTP status):\n"},
			describe: []string{`i1: PUT http://10.0.0.1:8080/admin/pool  Authorization: Bearer $TOKEN_1  {"max":200,"min":20}`}},
		{driver: plan.DriverRestart, log: driver.RestartLog{Restarts: true},
			describe: []string{"i1: set in /etc/ledgerd.env: DB_POOL_MAX=200 DB_POOL_MIN=20",
				"i1: run systemctl restart ledgerd; wait for http://10.0.0.1:8080/healthz to show the new pool"}},
		{driver: plan.DriverKube, wait: 10 * time.Minute, fleet: true,
			log: driver.RestartLog{Restarts: true, Header: "No restart command was run: driver kube patches each Deployment's env and\n" +
				"Kubernetes restarts its pods in a rolling update, waited for below.\n\n"}},
	} {
		p := seedPlan(t, tc.driver)
		p.Kubeconfig = kubeconfig(t)
		d, err := New(p, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.driver, err)
		}
		if d.Name() != tc.driver {
			t.Errorf("%s: Name() = %q", tc.driver, d.Name())
		}
		n, ok := d.(driver.EnvNeeder)
		if ok != (tc.env != nil) || ok && !slices.Equal(n.NeededEnv(in), tc.env) {
			t.Errorf("%s: EnvNeeder %v, want %q", tc.driver, ok, tc.env)
		}
		if l, ok := d.(driver.RestartLogger); !ok || l.RestartLog() != tc.log {
			t.Errorf("%s: restart log %v %+v, want %+v", tc.driver, ok, l, tc.log)
		}
		w, ok := d.(driver.Waiter)
		if ok != (tc.wait != 0) || ok && w.WaitTimeout() != tc.wait {
			t.Errorf("%s: Waiter %v, want %s", tc.driver, ok, tc.wait)
		}
		if _, ok := d.(FleetFacter); ok != tc.fleet {
			t.Errorf("%s: FleetFacter %v, want %v", tc.driver, ok, tc.fleet)
		}
		ds, ok := d.(driver.Describer)
		if !ok {
			t.Errorf("%s: not a Describer", tc.driver)
		} else if tc.describe != nil && !slices.Equal(ds.DescribeChange(ctx, in, size), tc.describe) {
			t.Errorf("%s: describe %q, want %q", tc.driver, ds.DescribeChange(ctx, in, size), tc.describe)
		}
	}
}

// The kube driver waits for its rollout up to the plan's rollout_timeout,
// or kube.DefaultTimeout; a rollback to change.from is described as the
// restore of the recorded env, without reading the cluster.
func TestKubeWaitAndRollbackDescription(t *testing.T) {
	if (&kube.Driver{}).WaitTimeout() != kube.DefaultTimeout || kube.DefaultTimeout != 10*time.Minute {
		t.Errorf("default wait %s", (&kube.Driver{}).WaitTimeout())
	}
	if (&kube.Driver{Timeout: time.Minute}).WaitTimeout() != time.Minute {
		t.Error("Timeout not used")
	}
	p := seedPlan(t, plan.DriverKube)
	p.Kubeconfig = kubeconfig(t)
	d, _ := New(p, nil)
	got := d.(driver.Describer).DescribeChange(context.Background(), plan.Instance{Name: "i1", Kube: "kube://prod/ledgerd"}, p.Change.From)
	want := "i1: restore exactly the env recorded in the Deployment's annotation " + kube.Annotation +
		" by the forward patch (values, valueFrom references, absent variables), then wait for the rollout"
	if len(got) != 1 || got[0] != want {
		t.Errorf("rollback: %q", got)
	}
}
