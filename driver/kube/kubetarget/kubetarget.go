package kubetarget

import (
	"fmt"
	"net/url"
	"strings"
)

// Scheme is the URL scheme of a Kubernetes target.
const Scheme = "kube"

// Target is the Deployment (and container) whose env the driver patches.
type Target struct {
	Namespace  string `json:"namespace"`
	Deployment string `json:"deployment"`
	// Container is the container's name; empty means the Deployment's only
	// container.
	Container string `json:"container,omitempty"`
}

// String is the target in the kube:// form ParseTarget reads.
func (t Target) String() string {
	s := Scheme + "://" + t.Namespace + "/" + t.Deployment
	if t.Container != "" {
		s += "/" + t.Container
	}
	return s
}

// Parse reads kube://namespace/deployment[/container].
func Parse(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != Scheme {
		return Target{}, fmt.Errorf("kube target %q: want kube://namespace/deployment[/container]", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Port() != "" {
		return Target{}, fmt.Errorf("kube target %q: no user, port, query or fragment allowed; want kube://namespace/deployment[/container]", s)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	t := Target{Namespace: u.Host}
	switch {
	case u.Path == "" || len(parts) > 2:
		return Target{}, fmt.Errorf("kube target %q: want kube://namespace/deployment[/container]", s)
	case len(parts) == 2:
		t.Deployment, t.Container = parts[0], parts[1]
	default:
		t.Deployment = parts[0]
	}
	for field, v := range map[string]string{"namespace": t.Namespace, "deployment": t.Deployment, "container": t.Container} {
		if v == "" && field != "container" {
			return Target{}, fmt.Errorf("kube target %q: %s is empty", s, field)
		}
		if v != "" && !dnsLabel(v) {
			return Target{}, fmt.Errorf("kube target %q: %s %q is not a DNS name (lowercase letters, digits, '-', '.')", s, field, v)
		}
	}
	return t, nil
}

func dnsLabel(s string) bool {
	if len(s) > 253 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (r == '-' || r == '.') && i > 0 && i < len(s)-1
		if !ok {
			return false
		}
	}
	return true
}
