package factory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/driver/admin"
	"github.com/poolpilot/poolpilot/driver/kube"
	"github.com/poolpilot/poolpilot/driver/restart"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/plan/plantest"
)

func seedPlan(t *testing.T, drv string) *plan.Plan {
	t.Helper()
	p := plantest.Seed(t)
	p.Driver = drv
	return p
}

// kubeconfig writes a kubeconfig for a server that is never called:
// building a client does not connect.
func kubeconfig(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNewBuildsThePlansDriver(t *testing.T) {
	p := seedPlan(t, plan.DriverAdmin)
	d, err := New(p, func(k string) string { return "v-" + k })
	ad, ok := d.(*admin.Driver)
	if err != nil || !ok {
		t.Fatalf("admin: %T %v", d, err)
	}
	if ad.Getenv("X") != "v-X" || ad.Retry.Within != p.Rollout.VerifyTimeout.D() {
		t.Errorf("admin: getenv %q, retry within %s, want the verify timeout %s", ad.Getenv("X"), ad.Retry.Within, p.Rollout.VerifyTimeout)
	}
	if d, _ := New(p, nil); d.(*admin.Driver).Getenv("X") != "" {
		t.Error("a nil getenv must read nothing, not panic")
	}

	p.Driver = plan.DriverRestart
	d, err = New(p, nil)
	if rd, ok := d.(*restart.Driver); err != nil || !ok || rd.Retry.Within != p.Rollout.VerifyTimeout.D() {
		t.Errorf("restart: %T %+v %v", d, d, err)
	}

	p.Driver, p.Kubeconfig = plan.DriverKube, kubeconfig(t)
	p.Rollout.RolloutTimeout = poolpilot.Duration(3 * time.Minute)
	d, err = New(p, nil)
	kd, ok := d.(*kube.Driver)
	if err != nil || !ok || kd.Client == nil {
		t.Fatalf("kube: %T %v", d, err)
	}
	if kd.From != p.Change.From || kd.Run != p.SHA256() || kd.WaitTimeout() != 3*time.Minute {
		t.Errorf("kube: from %v run %q wait %s", kd.From, kd.Run, kd.WaitTimeout())
	}
}

func TestNewRefusesAnUnknownDriver(t *testing.T) {
	for _, name := range []string{"helm", ""} {
		d, err := New(seedPlan(t, name), nil)
		if d != nil || err == nil || !strings.Contains(err.Error(), `"`+name+`" is not a driver: use admin, restart or kube`) {
			t.Errorf("%q: %v %v", name, d, err)
		}
		var ue *driver.UnreachableError
		if errors.As(err, &ue) {
			t.Errorf("%q: an unknown driver is not an unreachable one", name)
		}
	}
}

// A cluster that cannot be reached: the driver is returned with the
// reason, describes its change and answers preflight with the reason.
func TestNewKubeWithoutACluster(t *testing.T) {
	p := seedPlan(t, plan.DriverKube)
	p.Kubeconfig = filepath.Join(t.TempDir(), "nope")
	d, err := New(p, nil)
	var ue *driver.UnreachableError
	if !errors.As(err, &ue) || ue.What != "cluster" || !strings.HasPrefix(err.Error(), "driver kube: kubeconfig ") || !strings.Contains(ue.Err.Error(), "nope") {
		t.Fatalf("err %v", err)
	}
	if d == nil {
		t.Fatal("no driver to describe the change with")
	}
	in := plan.Instance{Name: "i1", Kube: "kube://prod/ledgerd"}
	lines := d.(driver.Describer).DescribeChange(context.Background(), in, p.Change.To)
	if len(lines) != 1 || lines[0] != "i1: patch kube://prod/ledgerd to DB_POOL_MAX=200 DB_POOL_MIN=20 (cluster not readable: patch not computed)" {
		t.Errorf("describe: %q", lines)
	}
	_, ferr := d.(FleetFacter).FleetFacts().Instance(context.Background(), in)
	if ferr == nil || ferr.Error() != ue.Err.Error() {
		t.Errorf("fleet facts: %v, want %v", ferr, ue.Err)
	}
}
