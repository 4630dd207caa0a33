package kubetest

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
)

// Pool defaults that the prober reports when a variable is unset (pgpool's).
const (
	DefaultMax = 200
	DefaultMin = 20
)

// Prober is a change.Prober for one container of one Deployment: it
// reports the pool of the running pods, as /healthz behind the
// Deployment's Service would.
type Prober struct {
	c                                *Cluster
	namespace, deployment, container string
}

// Prober returns the prober of the container of namespace/deployment.
func (c *Cluster) Prober(namespace, deployment, container string) *Prober {
	return &Prober{c: c, namespace: namespace, deployment: deployment, container: container}
}

// Health reports DB_POOL_MAX and DB_POOL_MIN of the env the pods run
// (DefaultMax and DefaultMin when unset); a value from a ConfigMap is read
// from the cluster. The instance is ignored: the prober stands for one
// Service.
func (p *Prober) Health(ctx context.Context, _ plan.Instance) (poolpilot.Health, error) {
	var env []corev1.EnvVar
	found := false
	for _, c := range p.c.Running(p.namespace, p.deployment) {
		if c.Name == p.container {
			env, found = c.Env, true
		}
	}
	if !found {
		return poolpilot.Health{}, fmt.Errorf("kubetest: no running container %s in deployment %s/%s", p.container, p.namespace, p.deployment)
	}
	pool := poolpilot.PoolStats{Max: DefaultMax, Min: DefaultMin}
	for _, e := range env {
		if e.Name != "DB_POOL_MAX" && e.Name != "DB_POOL_MIN" {
			continue
		}
		v, err := p.value(ctx, e)
		if err != nil {
			return poolpilot.Health{}, err
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return poolpilot.Health{}, fmt.Errorf("kubetest: %s=%q in %s/%s is not a whole number", e.Name, v, p.namespace, p.deployment)
		}
		if e.Name == "DB_POOL_MAX" {
			pool.Max = n
		} else {
			pool.Min = n
		}
	}
	pool.Total = pool.Min // the pods' pools hold their min, as pgpool keeps it
	return poolpilot.Health{Status: "ok", Pool: pool}, nil
}

// value resolves a literal or a ConfigMap reference.
func (p *Prober) value(ctx context.Context, e corev1.EnvVar) (string, error) {
	if e.ValueFrom == nil {
		return e.Value, nil
	}
	ref := e.ValueFrom.ConfigMapKeyRef
	if ref == nil {
		return "", fmt.Errorf("kubetest: %s: only valueFrom.configMapKeyRef is simulated", e.Name)
	}
	cm, err := p.c.Clientset.CoreV1().ConfigMaps(p.namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("kubetest: %s: %w", e.Name, err)
	}
	v, ok := cm.Data[ref.Key]
	if !ok {
		return "", fmt.Errorf("kubetest: %s: configmap %s has no key %q", e.Name, ref.Name, ref.Key)
	}
	return v, nil
}
