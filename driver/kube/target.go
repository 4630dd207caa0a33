package kube

import (
	"fmt"

	"github.com/poolpilot/poolpilot/driver/kube/kubetarget"
	"github.com/poolpilot/poolpilot/plan"
)

// Scheme is the URL scheme of a Kubernetes target.
const Scheme = kubetarget.Scheme

// Target is the Deployment (and container) whose env the driver patches.
type Target = kubetarget.Target

// ParseTarget reads kube://namespace/deployment[/container].
func ParseTarget(s string) (Target, error) { return kubetarget.Parse(s) }

// TargetOf reads an instance's target from its kube field (or, for older
// callers, its admin_url).
func TargetOf(in plan.Instance) (Target, error) {
	if in.Kube != "" {
		t, err := ParseTarget(in.Kube)
		if err != nil {
			return Target{}, fmt.Errorf("instance %s: kube: %w", in.Name, err)
		}
		return t, nil
	}
	if in.AdminURL == "" {
		return Target{}, fmt.Errorf("instance %s: no kube target: kube (or, for older callers, admin_url must name the Deployment) as kube://namespace/deployment[/container]", in.Name)
	}
	t, err := ParseTarget(in.AdminURL)
	if err != nil {
		return Target{}, fmt.Errorf("instance %s: admin_url: %w", in.Name, err)
	}
	return t, nil
}
