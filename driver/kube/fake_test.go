package kube

import (
	"encoding/json"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/poolpilot/poolpilot/internal/kubetest"
	"github.com/poolpilot/poolpilot/plan"
)

// driverOn returns a Driver on the fake cluster whose polls advance its
// clock and its simulated rollout.
func driverOn(c *kubetest.Cluster, from plan.PoolSize) *Driver {
	return &Driver{Client: c.Clientset, From: from, Run: "run-1", Timeout: time.Minute, Poll: 2 * time.Second, Clock: c.Clock, Wait: c.Wait}
}

// deployment is a settled Deployment (rollout complete, generation 4) with
// the given env on container "app" and a sidecar.
func deployment(ns, name string, reps int32, env []corev1.EnvVar) *appsv1.Deployment {
	return kubetest.Deployment(ns, name, reps,
		corev1.Container{Name: "app", Image: "ledgerd:1", Env: env},
		corev1.Container{Name: "sidecar", Image: "proxy:1", Env: []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "5"}}})
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
