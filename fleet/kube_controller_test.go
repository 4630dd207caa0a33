package fleet

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/driver/kube"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/sim"
)

// kubeWorld is a fake cluster with one Deployment whose rollout moves one
// pod per poll, and a prober that reports the env of the running pods (the
// template's env once the rollout is complete), as a Service URL would.
type kubeWorld struct {
	t     *testing.T
	cs    *fake.Clientset
	clock *sim.Clock

	mu      sync.Mutex
	running []corev1.EnvVar
}

func newKubeWorld(t *testing.T, env []corev1.EnvVar) *kubeWorld {
	reps := int32(4)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "ledgerd", Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: &reps, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "ledgerd:1", Env: env}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 4, UpdatedReplicas: 4, AvailableReplicas: 4},
	}
	w := &kubeWorld{t: t, cs: fake.NewClientset(dep), clock: sim.NewClock(time.Date(2026, 2, 1, 2, 30, 0, 0, time.UTC)), running: env}
	gvr := appsv1.SchemeGroupVersion.WithResource("deployments")
	tracker := w.cs.Tracker()
	w.cs.PrependReactor("patch", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pa := a.(k8stesting.PatchAction)
		before, err := tracker.Get(gvr, pa.GetNamespace(), pa.GetName())
		if err != nil {
			return true, nil, err
		}
		_, obj, err := k8stesting.ObjectReaction(tracker)(a)
		if err != nil {
			return true, nil, err
		}
		d := obj.(*appsv1.Deployment)
		if !equality.Semantic.DeepEqual(before.(*appsv1.Deployment).Spec, d.Spec) {
			d.Generation++
			err = tracker.Update(gvr, d, d.Namespace)
		}
		return true, d, err
	})
	return w
}

// wait advances the clock and the rollout by one step.
func (w *kubeWorld) wait(ctx context.Context, d time.Duration) error {
	w.clock.Advance(d)
	dep, err := w.cs.AppsV1().Deployments("prod").Get(ctx, "ledgerd", metav1.GetOptions{})
	if err != nil {
		return err
	}
	st := &dep.Status
	switch {
	case st.ObservedGeneration < dep.Generation:
		st.ObservedGeneration, st.UpdatedReplicas = dep.Generation, 0
	case st.UpdatedReplicas < *dep.Spec.Replicas:
		st.UpdatedReplicas++
		st.AvailableReplicas = *dep.Spec.Replicas
		if st.UpdatedReplicas == *dep.Spec.Replicas {
			w.mu.Lock()
			w.running = dep.Spec.Template.Spec.Containers[0].Env
			w.mu.Unlock()
		}
	}
	if _, err := w.cs.AppsV1().Deployments("prod").UpdateStatus(ctx, dep, metav1.UpdateOptions{}); err != nil {
		return err
	}
	return ctx.Err()
}

// Health reports the running pods' pool (pgpool's defaults 200:20 when a
// variable is absent).
func (w *kubeWorld) Health(context.Context, plan.Instance) (poolpilot.Health, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	pool := poolpilot.PoolStats{Max: 200, Min: 20}
	for _, e := range w.running {
		n, _ := strconv.Atoi(e.Value)
		switch e.Name {
		case kube.EnvMax:
			pool.Max = n
		case kube.EnvMin:
			pool.Min = n
		}
	}
	return poolpilot.Health{Status: "ok", Pool: pool}, nil
}

type logRecorder struct {
	mu     sync.Mutex
	events []string
	files  map[string]string
}

func (r *logRecorder) Event(e string, _ map[string]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *logRecorder) WriteFile(name string, b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.files == nil {
		r.files = map[string]string{}
	}
	r.files[name] = string(b)
	return nil
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
			dep, _ := w.cs.AppsV1().Deployments("prod").Get(context.Background(), "ledgerd", metav1.GetOptions{})
			got := dep.Spec.Template.Spec.Containers[0].Env
			if fmt.Sprint(envMap(got)) != fmt.Sprint(envMap(tc.before)) || len(got) != len(tc.before) {
				t.Errorf("env after rollback %+v, want exactly %+v", got, tc.before)
			}
			log := rec.files["deployment_log.txt"]
			if !strings.Contains(log, "kube kube://prod/ledgerd/app: previous env DB_POOL_MAX=10") || !strings.Contains(log, "rollback: restoring the recorded env DB_POOL_MAX=10") {
				t.Errorf("deployment_log.txt does not record the snapshot and its restore:\n%s", log)
			}
		})
	}
}

func runKubeChange(t *testing.T, before []corev1.EnvVar) (change.Outcome, *kubeWorld, *logRecorder) {
	t.Helper()
	w := newKubeWorld(t, before)
	p, err := sim.Plan(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	p.Instances[0].Name, p.Instances[0].AdminURL = "ledgerd", "kube://prod/ledgerd/app"
	p.Rollout.VerifyTimeout = poolpilot.Duration(30 * time.Second)
	drv := &kube.Driver{Client: w.cs, From: p.Change.From, Run: p.SHA256(), Timeout: 2 * time.Minute, Poll: time.Second, Clock: w.clock, Wait: w.wait}
	j, err := change.OpenJournal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	rec := &logRecorder{}
	c := &change.Controller{Plan: p, Journal: j, Driver: drv, Prober: w, Recorder: rec, Clock: w.clock, Wait: w.wait}
	c.Phases.Soak = func(ctx context.Context) (change.Verdict, error) {
		if h, _ := w.Health(ctx, p.Instances[0]); h.Pool.Max != 200 || h.Pool.Min != 20 {
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
