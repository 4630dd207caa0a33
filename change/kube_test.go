package change_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/driver/kube"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/kubetest"
	"github.com/poolpilot/poolpilot/plan"
)

// cluster is the fake cluster (internal/kubetest) with one Deployment,
// prod/ledgerd (3 replicas, container "app" with the given env and a
// sidecar "proxy"), and a ConfigMap "pool" whose key "min" is 2; app is the
// prober of its pods, as a Service URL would be.
type cluster struct {
	*kubetest.Cluster
	app *kubetest.Prober
}

func newCluster(t *testing.T, env []corev1.EnvVar) *cluster {
	t.Helper()
	dep := kubetest.Deployment("prod", "ledgerd", 3,
		corev1.Container{Name: "app", Image: "ledgerd:1", Env: env},
		corev1.Container{Name: "proxy", Image: "envoy", Env: []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "7"}}})
	pool := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "pool"}, Data: map[string]string{"min": "2"}}
	c := kubetest.New(t, dep, pool)
	return &cluster{Cluster: c, app: c.Prober("prod", "ledgerd", "app")}
}

func (c *cluster) env(t *testing.T) []corev1.EnvVar {
	t.Helper()
	dep := c.Get("prod", "ledgerd")
	if sidecar := dep.Spec.Template.Spec.Containers[1].Env; len(sidecar) != 1 || sidecar[0].Value != "7" {
		t.Errorf("the sidecar's env changed: %+v", sidecar)
	}
	return sortedEnv(dep.Spec.Template.Spec.Containers[0].Env)
}

func sortedEnv(env []corev1.EnvVar) []corev1.EnvVar {
	out := append([]corev1.EnvVar(nil), env...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// kubePlan is a plan with driver kube naming the Deployment in kube:.
func kubePlan(t *testing.T) *plan.Plan {
	t.Helper()
	o := plan.SeedInitOptions()
	o.Driver = plan.DriverKube
	b, err := plan.Init(o)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "kube://default/instance-1", "kube://prod/ledgerd/app", 1)
	p, err := plan.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runKube(t *testing.T, c *cluster, soak func(context.Context) (change.Verdict, error)) (change.Outcome, *evidence.MemRecorder) {
	t.Helper()
	p := kubePlan(t)
	drv := &kube.Driver{Client: c.Clientset, From: p.Change.From, Run: p.SHA256(), Timeout: time.Minute, Poll: time.Second, Clock: c.Clock, Wait: c.Wait}
	j, err := change.OpenJournal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	rec := &evidence.MemRecorder{}
	ctl := &change.Controller{Plan: p, Journal: j, Driver: drv, Prober: c.app, Recorder: rec, Clock: c.Clock, Wait: c.Wait}
	ctl.Phases.Soak = soak
	out, err := ctl.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out, rec
}

// The whole controller with the kube driver: a change that succeeds leaves
// the Deployment at change.to; one whose soak fires a trigger rolls back to
// exactly the env that was there — a literal, a ConfigMap reference, and
// the other variables untouched.
func TestControllerWithKubeDriver(t *testing.T) {
	before := []corev1.EnvVar{
		{Name: "DATABASE_URL", Value: "postgres://db/ledger"},
		{Name: "DB_POOL_MAX", Value: "10"},
		{Name: "DB_POOL_MIN", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "pool"}, Key: "min"}}},
		{Name: "LOG", Value: "info"},
	}
	t.Run("succeeds", func(t *testing.T) {
		c := newCluster(t, before)
		out, rec := runKube(t, c, func(context.Context) (change.Verdict, error) { return change.Verdict{}, nil })
		if out.State != change.StateSucceeded {
			t.Fatalf("outcome %+v", out)
		}
		got := map[string]corev1.EnvVar{}
		for _, e := range c.env(t) {
			got[e.Name] = e
		}
		if got["DB_POOL_MAX"].Value != "200" || got["DB_POOL_MIN"].Value != "20" || got["DB_POOL_MIN"].ValueFrom != nil || got["LOG"].Value != "info" {
			t.Errorf("env after the change: %+v", got)
		}
		if h, _ := c.app.Health(context.Background(), plan.Instance{}); h.Pool.Max != 200 || h.Pool.Min != 20 {
			t.Errorf("pods run %d:%d", h.Pool.Max, h.Pool.Min)
		}
		if !strings.Contains(rec.File("deployment_log.txt"), "rollout complete") {
			t.Errorf("deployment_log.txt:\n%s", rec.File("deployment_log.txt"))
		}
	})
	t.Run("rolls back to the exact env", func(t *testing.T) {
		c := newCluster(t, before)
		out, rec := runKube(t, c, func(ctx context.Context) (change.Verdict, error) {
			if h, _ := c.app.Health(ctx, plan.Instance{}); h.Pool.Max != 200 {
				t.Errorf("soak sees max %d, want 200", h.Pool.Max)
			}
			return change.Verdict{Rollback: true, Criterion: "error_rate_high", Class: poolpilot.ClassP0, Reason: "error rate 0.02 > 0.01"}, nil
		})
		if out.State != change.StateRolledBack {
			t.Fatalf("outcome %+v", out)
		}
		if got, want := c.env(t), sortedEnv(before); !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("env after rollback\n%+v\nwant exactly\n%+v", got, want)
		}
		log := rec.File("deployment_log.txt")
		for _, w := range []string{"previous env DB_POOL_MAX=10 DB_POOL_MIN=<valueFrom", "rollback: restoring the recorded env", "rollout complete"} {
			if !strings.Contains(log, w) {
				t.Errorf("deployment_log.txt lacks %q:\n%s", w, log)
			}
		}
	})
}
