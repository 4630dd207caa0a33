package kubetest

import (
	"context"
	"fmt"
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

	"github.com/poolpilot/poolpilot/sim"
)

// Mode is how the simulated deployment controller moves a rollout.
type Mode string

const (
	// Progress updates one more pod (available at once) per step, with one
	// surge pod until the last one; the rollout completes.
	Progress Mode = "progress"
	// Fail updates one pod, then reports ProgressDeadlineExceeded.
	Fail Mode = "fail"
	// Stuck updates one pod that never becomes available.
	Stuck Mode = "stuck"
)

// ReasonProgressDeadlineExceeded is the Progressing condition's reason in
// Fail mode (the value Kubernetes uses).
const ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"

// Start is the fake clock's start time.
var Start = time.Date(2026, 2, 1, 2, 30, 0, 0, time.UTC)

var deployments = appsv1.SchemeGroupVersion.WithResource("deployments")

// Cluster is client-go's fake clientset with a simulated API server and
// deployment controller. Use Clientset as the driver's Client, Clock as
// its Clock and Wait as its Wait hook.
type Cluster struct {
	Clientset *fake.Clientset
	Clock     *sim.Clock
	// Mode is how rollouts move; Progress unless set before the first Wait.
	Mode Mode

	t       testing.TB
	mu      sync.Mutex
	patches int
	running map[string][]corev1.Container // "namespace/name" → what the pods run
}

// New starts a cluster holding objs. The pods of every Deployment among
// them run its template as given.
func New(t testing.TB, objs ...runtime.Object) *Cluster {
	c := &Cluster{Clientset: fake.NewClientset(objs...), Clock: sim.NewClock(Start), Mode: Progress, t: t, running: map[string][]corev1.Container{}}
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok {
			c.running[key(d)] = d.Spec.Template.Spec.DeepCopy().Containers
		}
	}
	tracker := c.Clientset.Tracker()
	c.Clientset.PrependReactor("patch", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pa := a.(k8stesting.PatchAction)
		before, err := tracker.Get(deployments, pa.GetNamespace(), pa.GetName())
		if err != nil {
			return true, nil, err
		}
		handled, obj, err := k8stesting.ObjectReaction(tracker)(a)
		if err != nil || !handled {
			return handled, obj, err
		}
		c.mu.Lock()
		c.patches++
		c.mu.Unlock()
		dep := obj.(*appsv1.Deployment)
		// The API server bumps generation when the spec changes.
		if !equality.Semantic.DeepEqual(before.(*appsv1.Deployment).Spec, dep.Spec) {
			dep.Generation++
			if err := tracker.Update(deployments, dep, dep.Namespace); err != nil {
				return true, nil, err
			}
		}
		return true, dep, nil
	})
	return c
}

func key(d *appsv1.Deployment) string { return d.Namespace + "/" + d.Name }

// Patches counts the Deployment patches the API server accepted.
func (c *Cluster) Patches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.patches
}

// Wait advances the clock by d and every rollout by one step.
func (c *Cluster) Wait(ctx context.Context, d time.Duration) error {
	c.Clock.Advance(d)
	if err := c.Step(ctx); err != nil {
		return err
	}
	return ctx.Err()
}

// Step is one reconcile of the simulated deployment controller over every
// Deployment: a new generation is observed first (no pod updated yet),
// then each step moves the rollout as Mode says. When a rollout completes,
// the pods run the new template.
func (c *Cluster) Step(ctx context.Context) error {
	// The simulated controller reads and writes the object store directly,
	// not through the clientset, so that Calls holds only the calls of the
	// code under test.
	tracker := c.Clientset.Tracker()
	obj, err := tracker.List(deployments, appsv1.SchemeGroupVersion.WithKind("Deployment"), "")
	if err != nil {
		return fmt.Errorf("kubetest: list deployments: %w", err)
	}
	deps := obj.(*appsv1.DeploymentList)
	for i := range deps.Items {
		d := &deps.Items[i]
		want := replicas(d)
		st := &d.Status
		if st.ObservedGeneration < d.Generation {
			st.ObservedGeneration = d.Generation
			st.UpdatedReplicas, st.Replicas = 0, want
		} else {
			switch c.Mode {
			case Progress:
				st.UpdatedReplicas = min(st.UpdatedReplicas+1, want)
				st.AvailableReplicas = st.UpdatedReplicas
				if st.UpdatedReplicas == want {
					st.Replicas = want
					c.mu.Lock()
					c.running[key(d)] = d.Spec.Template.Spec.DeepCopy().Containers
					c.mu.Unlock()
				} else {
					st.Replicas = want + 1 // surge pod
				}
			case Fail, Stuck:
				st.UpdatedReplicas, st.Replicas = 1, want+1
				if c.Mode == Fail {
					st.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: ReasonProgressDeadlineExceeded, Message: fmt.Sprintf(`ReplicaSet "%s-7d9" has timed out progressing.`, d.Name)}}
				}
			default:
				return fmt.Errorf("kubetest: unknown Mode %q: use Progress, Fail or Stuck", c.Mode)
			}
		}
		if err := tracker.Update(deployments, d, d.Namespace); err != nil {
			return fmt.Errorf("kubetest: update status of %s: %w", key(d), err)
		}
	}
	return nil
}

func replicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// Get returns the Deployment as stored now; a missing one fails the test.
func (c *Cluster) Get(namespace, name string) *appsv1.Deployment {
	c.t.Helper()
	obj, err := c.Clientset.Tracker().Get(deployments, namespace, name)
	if err != nil {
		c.t.Fatal(err)
	}
	return obj.(*appsv1.Deployment)
}

// Call is one kind of API request: what an RBAC rule grants.
type Call struct {
	Group, Resource, Subresource, Verb, Namespace, Name string
}

// Calls returns the API requests made through Clientset since the cluster
// started, each kind once, in order of first use. The cluster's own
// simulation (Step, Get) does not go through the clientset and is not in
// it.
func (c *Cluster) Calls() []Call {
	var out []Call
	seen := map[Call]bool{}
	for _, a := range c.Clientset.Actions() {
		r := a.GetResource()
		k := Call{Group: r.Group, Resource: r.Resource, Subresource: a.GetSubresource(), Verb: a.GetVerb(), Namespace: a.GetNamespace()}
		if n, ok := a.(interface{ GetName() string }); ok {
			k.Name = n.GetName()
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// Running returns the containers the Deployment's pods run: its template
// when the cluster started or when its last rollout completed.
func (c *Cluster) Running(namespace, name string) []corev1.Container {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running[namespace+"/"+name]
}

// Deployment is a Deployment whose rollout is complete (generation 4
// observed, every replica updated, available and ready) with the given
// containers.
func Deployment(namespace, name string, replicas int32, containers ...corev1.Container) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Generation: 4},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: containers}},
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 4, Replicas: replicas, UpdatedReplicas: replicas, AvailableReplicas: replicas, ReadyReplicas: replicas},
	}
}
