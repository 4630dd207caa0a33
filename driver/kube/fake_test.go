package kube

import (
	"context"
	"encoding/json"
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

	"github.com/poolpilot/poolpilot/plan"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// rollout modes of the simulated deployment controller.
const (
	modeProgress = "progress" // one more pod updated and available per poll
	modeFail     = "fail"     // progress deadline exceeded after one pod
	modeStuck    = "stuck"    // one pod updated, never available
)

// cluster is a fake clientset plus a simulated deployment controller that
// moves the rollout one step at every poll of the driver.
type cluster struct {
	t       *testing.T
	cs      *fake.Clientset
	clock   *fakeClock
	mode    string
	patches int
}

func newCluster(t *testing.T, objs ...runtime.Object) *cluster {
	c := &cluster{t: t, cs: fake.NewClientset(objs...), clock: &fakeClock{now: time.Date(2026, 2, 1, 2, 30, 0, 0, time.UTC)}, mode: modeProgress}
	tracker := c.cs.Tracker()
	c.cs.PrependReactor("patch", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pa := a.(k8stesting.PatchAction)
		before, err := tracker.Get(appsv1.SchemeGroupVersion.WithResource("deployments"), pa.GetNamespace(), pa.GetName())
		if err != nil {
			return true, nil, err
		}
		handled, obj, err := k8stesting.ObjectReaction(tracker)(a)
		if err != nil || !handled {
			return handled, obj, err
		}
		c.patches++
		dep := obj.(*appsv1.Deployment)
		// The API server bumps generation when the spec changes.
		if !equality.Semantic.DeepEqual(before.(*appsv1.Deployment).Spec, dep.Spec) {
			dep.Generation++
			if err := tracker.Update(appsv1.SchemeGroupVersion.WithResource("deployments"), dep, dep.Namespace); err != nil {
				return true, nil, err
			}
		}
		return true, dep, nil
	})
	return c
}

// driver returns a Driver whose polls advance the fake clock and the
// simulated rollout.
func (c *cluster) driver(from plan.PoolSize) *Driver {
	return &Driver{
		Client: c.cs, From: from, Run: "run-1", Timeout: time.Minute, Poll: 2 * time.Second, Clock: c.clock,
		Wait: func(ctx context.Context, d time.Duration) error {
			c.clock.Advance(d)
			c.step()
			return ctx.Err()
		},
	}
}

// step is one reconcile of the simulated deployment controller.
func (c *cluster) step() {
	deps, err := c.cs.AppsV1().Deployments("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	for i := range deps.Items {
		d := &deps.Items[i]
		want := replicas(d)
		st := &d.Status
		if st.ObservedGeneration < d.Generation {
			st.ObservedGeneration = d.Generation
			st.UpdatedReplicas, st.Replicas = 0, want
		} else {
			switch c.mode {
			case modeProgress:
				st.UpdatedReplicas = min(st.UpdatedReplicas+1, want)
				st.AvailableReplicas = st.UpdatedReplicas
				if st.UpdatedReplicas == want {
					st.Replicas = want
				} else {
					st.Replicas = want + 1 // surge pod
				}
			case modeFail, modeStuck:
				st.UpdatedReplicas, st.Replicas = 1, want+1
				if c.mode == modeFail {
					st.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: ReasonProgressDeadlineExceeded, Message: `ReplicaSet "ledgerd-7d9" has timed out progressing.`}}
				}
			}
		}
		if _, err := c.cs.AppsV1().Deployments(d.Namespace).UpdateStatus(context.Background(), d, metav1.UpdateOptions{}); err != nil {
			c.t.Fatal(err)
		}
	}
}

func (c *cluster) get(ns, name string) *appsv1.Deployment {
	c.t.Helper()
	d, err := c.cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// deployment is a settled Deployment (rollout complete) with the given env
// on container "app" and a sidecar.
func deployment(ns, name string, reps int32, env []corev1.EnvVar) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 4},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(reps),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "app", Image: "ledgerd:1", Env: env},
				{Name: "sidecar", Image: "proxy:1", Env: []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "5"}}},
			}}},
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 4, Replicas: reps, UpdatedReplicas: reps, AvailableReplicas: reps, ReadyReplicas: reps},
	}
}

func envOf(t *testing.T, d *appsv1.Deployment, name string) []corev1.EnvVar {
	t.Helper()
	c, err := container(d, Target{Namespace: d.Namespace, Deployment: d.Name, Container: name})
	if err != nil {
		t.Fatal(err)
	}
	return c.Env
}

func snapshotAnnotation(t *testing.T, d *appsv1.Deployment) Snapshot {
	t.Helper()
	s, ok, err := recorded(d)
	if err != nil || !ok {
		t.Fatalf("annotation %s: ok %v err %v (%v)", Annotation, ok, err, d.Annotations)
	}
	b, _ := json.Marshal(s)
	t.Logf("annotation: %s", b)
	return s
}
