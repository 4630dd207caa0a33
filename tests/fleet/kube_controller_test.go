package fleet

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/driver/kube"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/kubetest"
	"github.com/poolpilot/poolpilot/sim"
)

// newKubeWorld is the fake cluster (internal/kubetest) with one
// Deployment, prod/ledgerd (4 replicas, container "app" with env).
func newKubeWorld(t *testing.T, env []corev1.EnvVar) *kubetest.Cluster {
	return kubetest.New(t, kubetest.Deployment("prod", "ledgerd", 4, corev1.Container{Name: "app", Image: "ledgerd:1", Env: env}))
}

// TestControllerWithKubeDriver runs change.Controller with the kube driver
// against the fake cluster: the change rolls out, the soak fires a trigger,
// and the rollback puts back exactly the env that was there.
//
// In the second case DB_POOL_MIN was absent before the change, so the pods
// ran at pgpool's default min 20, not at the plan's change.from 10:2. The
// rollback restores the env exactly (DB_POOL_MIN removed again), and then
// the controller's verification — which compares /healthz with
// change.from — reports rollback-failed: the plan did not describe the
// Deployment. That is the honest outcome; preflight should compare the
// Deployment's env with change.from before anything changes (docs/fleets.md).
func TestControllerWithKubeDriver(t *testing.T) {
	cases := []struct {
		name   string
		before []corev1.EnvVar
		want   change.State
		reason string
	}{
		{"env matches change.from", []corev1.EnvVar{{Name: "DATABASE_URL", Value: "postgres://db/ledger"}, {Name: "DB_POOL_MAX", Value: "10"}, {Name: "DB_POOL_MIN", Value: "2"}, {Name: "LOG", Value: "info"}},
			change.StateRolledBack, ""},
		{"min absent before", []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "10"}, {Name: "LOG", Value: "info"}},
			change.StateRollbackFailed, "reports max 10 min 20, want 10/2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, w, rec := runKubeChange(t, tc.before)
			if out.State != tc.want || !strings.Contains(out.Reason, tc.reason) {
				t.Errorf("outcome %+v, want %s (%s)", out, tc.want, tc.reason)
			}
			dep := w.Get("prod", "ledgerd")
			got := dep.Spec.Template.Spec.Containers[0].Env
			if fmt.Sprint(envMap(got)) != fmt.Sprint(envMap(tc.before)) || len(got) != len(tc.before) {
				t.Errorf("env after rollback %+v, want exactly %+v", got, tc.before)
			}
			log := rec.File("deployment_log.txt")
			if !strings.Contains(log, "kube kube://prod/ledgerd/app: previous env DB_POOL_MAX=10") || !strings.Contains(log, "rollback: restoring the recorded env DB_POOL_MAX=10") {
				t.Errorf("deployment_log.txt does not record the snapshot and its restore:\n%s", log)
			}
		})
	}
}

func runKubeChange(t *testing.T, before []corev1.EnvVar) (change.Outcome, *kubetest.Cluster, *evidence.MemRecorder) {
	t.Helper()
	w := newKubeWorld(t, before)
	app := w.Prober("prod", "ledgerd", "app") // the pods, as a Service URL would report them
	p, err := sim.Plan(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	p.Instances[0].Name, p.Instances[0].AdminURL = "ledgerd", "kube://prod/ledgerd/app"
	p.Rollout.VerifyTimeout = poolpilot.Duration(30 * time.Second)
	drv := &kube.Driver{Client: w.Clientset, From: p.Change.From, Run: p.SHA256(), Timeout: 2 * time.Minute, Poll: time.Second, Clock: w.Clock, Wait: w.Wait}
	j, err := change.OpenJournal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	rec := &evidence.MemRecorder{}
	c := &change.Controller{Plan: p, Journal: j, Driver: drv, Prober: app, Recorder: rec, Clock: w.Clock, Wait: w.Wait}
	c.Phases.Soak = func(ctx context.Context) (change.Verdict, error) {
		if h, _ := app.Health(ctx, p.Instances[0]); h.Pool.Max != 200 || h.Pool.Min != 20 {
			t.Errorf("soak sees %d:%d, want the new 200:20", h.Pool.Max, h.Pool.Min)
		}
		return change.Verdict{Rollback: true, Criterion: "fleet-error-rate-high", Class: poolpilot.ClassP0, Reason: "fleet error rate 0.2 > 0.1 for 3s"}, nil
	}
	out, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out, w, rec
}

func envMap(env []corev1.EnvVar) map[string]string {
	m := map[string]string{}
	for _, e := range env {
		m[e.Name] = e.Value
	}
	return m
}
