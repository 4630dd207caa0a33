package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/poolpilot/poolpilot/plan"
)

// Fleet is what the connection budget needs from Kubernetes.
type Fleet struct {
	Target Target `json:"target"`
	// Replicas is the Deployment's spec.replicas.
	Replicas int `json:"replicas"`
	// MaxReplicas is the HPA's maxReplicas, or Replicas without an HPA.
	MaxReplicas int    `json:"max_replicas"`
	HPA         string `json:"hpa,omitempty"`
	// MaxSurge is the rolling update's maxSurge at MaxReplicas, rounded up
	// like Kubernetes does (0 for the Recreate strategy).
	MaxSurge int `json:"max_surge"`
	// SurgeSpec is maxSurge as written ("25%", "1"); "default 25%" when unset.
	SurgeSpec string `json:"surge_spec"`
	Strategy  string `json:"strategy"`
}

// Peak is the most pods that can run at once: MaxReplicas + MaxSurge.
func (f Fleet) Peak() int { return f.MaxReplicas + f.MaxSurge }

// Arithmetic explains the peak client-side connections at a pool max.
func (f Fleet) Arithmetic(poolMax int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "replicas %d (deployment %s/%s spec.replicas)\n", f.Replicas, f.Target.Namespace, f.Target.Deployment)
	if f.HPA != "" {
		fmt.Fprintf(&b, "max replicas %d (HPA %s maxReplicas)\n", f.MaxReplicas, f.HPA)
	} else {
		fmt.Fprintf(&b, "max replicas %d (no HPA targets the deployment)\n", f.MaxReplicas)
	}
	if f.Strategy == string(appsv1.RecreateDeploymentStrategyType) {
		b.WriteString("max surge 0 (strategy Recreate)\n")
	} else {
		fmt.Fprintf(&b, "max surge %d (maxSurge %s of %d, rounded up)\n", f.MaxSurge, f.SurgeSpec, f.MaxReplicas)
	}
	fmt.Fprintf(&b, "peak pods = %d + %d = %d\n", f.MaxReplicas, f.MaxSurge, f.Peak())
	fmt.Fprintf(&b, "peak client connections = %d pods × DB_POOL_MAX %d = %d\n", f.Peak(), poolMax, f.Peak()*poolMax)
	return b.String()
}

// ReadFleet reads the budget inputs of a target.
func ReadFleet(ctx context.Context, d *Driver, t Target) (Fleet, error) {
	dep, err := d.get(ctx, t)
	if err != nil {
		return Fleet{}, err
	}
	f := Fleet{Target: t, Replicas: int(replicas(dep)), Strategy: string(dep.Spec.Strategy.Type)}
	if f.Strategy == "" {
		f.Strategy = string(appsv1.RollingUpdateDeploymentStrategyType)
	}
	f.MaxReplicas = f.Replicas
	hpas, err := d.Client.AutoscalingV2().HorizontalPodAutoscalers(t.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return Fleet{}, fmt.Errorf("list horizontal pod autoscalers in %s: %w", t.Namespace, err)
	}
	for _, h := range hpas.Items {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind == "Deployment" && ref.Name == t.Deployment {
			f.HPA = h.Name
			f.MaxReplicas = max(int(h.Spec.MaxReplicas), f.Replicas)
		}
	}
	if f.Strategy == string(appsv1.RecreateDeploymentStrategyType) {
		return f, nil
	}
	surge := intstr.FromString("25%")
	f.SurgeSpec = "default 25%"
	if ru := dep.Spec.Strategy.RollingUpdate; ru != nil && ru.MaxSurge != nil {
		surge = *ru.MaxSurge
		f.SurgeSpec = surge.String()
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(&surge, f.MaxReplicas, true)
	if err != nil {
		return Fleet{}, fmt.Errorf("deployment %s/%s: maxSurge %q: %w", t.Namespace, t.Deployment, surge.String(), err)
	}
	f.MaxSurge = n
	return f, nil
}

// DryRunResult is what a change would do, without doing it.
type DryRunResult struct {
	Target   Target   `json:"target"`
	Previous Snapshot `json:"previous"`
	// Patch is the exact strategic-merge patch Apply would send; empty when
	// the env is already at the size.
	Patch  json.RawMessage `json:"patch,omitempty"`
	Fleet  Fleet           `json:"fleet"`
	Budget string          `json:"budget"`
}

// DryRun computes the patch and the budget arithmetic for inst at size.
func (d *Driver) DryRun(ctx context.Context, inst plan.Instance, size plan.PoolSize) (DryRunResult, error) {
	t, err := TargetOf(inst)
	if err != nil {
		return DryRunResult{}, err
	}
	prev, err := d.Snapshot(ctx, t)
	if err != nil {
		return DryRunResult{}, err
	}
	patch, _, err := d.plan(ctx, t, size)
	if err != nil {
		return DryRunResult{}, err
	}
	f, err := ReadFleet(ctx, d, t)
	if err != nil {
		return DryRunResult{}, err
	}
	return DryRunResult{Target: t, Previous: prev, Patch: patch, Fleet: f, Budget: f.Arithmetic(size.Max)}, nil
}
