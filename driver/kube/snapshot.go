package kube

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/poolpilot/poolpilot/plan"
)

// Annotation is the Deployment annotation that holds the Snapshot of the env
// before the change, written in the same patch as the change itself.
const Annotation = "poolpilot.dev/previous-env"

// Env variables the driver manages.
const (
	EnvMax = "DB_POOL_MAX"
	EnvMin = "DB_POOL_MIN"
)

// Snapshot states.
const (
	StateApplied  = "applied"  // the change is out; Env is what to restore
	StateRestored = "restored" // Env was put back
)

// EnvValue is one managed variable as it was: a literal value, a valueFrom
// reference, or absent.
type EnvValue struct {
	Name      string               `json:"name"`
	Present   bool                 `json:"present"`
	Value     string               `json:"value,omitempty"`
	ValueFrom *corev1.EnvVarSource `json:"valueFrom,omitempty"`
}

// String is NAME=value, NAME=<valueFrom …> or NAME unset.
func (e EnvValue) String() string {
	switch {
	case !e.Present:
		return e.Name + " unset"
	case e.ValueFrom != nil:
		b, _ := json.Marshal(e.ValueFrom)
		return e.Name + "=<valueFrom " + string(b) + ">"
	}
	return e.Name + "=" + e.Value
}

// Snapshot is the managed env of a container before a change.
type Snapshot struct {
	Target Target     `json:"target"`
	Run    string     `json:"run,omitempty"`
	State  string     `json:"state,omitempty"`
	Env    []EnvValue `json:"env"`
}

// String lists the variables, for logs and evidence.
func (s Snapshot) String() string {
	parts := make([]string, len(s.Env))
	for i, e := range s.Env {
		parts[i] = e.String()
	}
	return strings.Join(parts, " ")
}

// Size is the pool size the snapshot's literal values name; ok is false when
// a variable is absent, a reference, or not an integer.
func (s Snapshot) Size() (size plan.PoolSize, ok bool) {
	ok = true
	for _, e := range s.Env {
		n, err := strconv.Atoi(e.Value)
		if !e.Present || e.ValueFrom != nil || err != nil {
			ok = false
			continue
		}
		switch e.Name {
		case EnvMax:
			size.Max = n
		case EnvMin:
			size.Min = n
		}
	}
	return size, ok
}

// container finds the target's container in a Deployment.
func container(d *appsv1.Deployment, t Target) (*corev1.Container, error) {
	cs := d.Spec.Template.Spec.Containers
	if t.Container == "" {
		if len(cs) != 1 {
			names := make([]string, len(cs))
			for i, c := range cs {
				names[i] = c.Name
			}
			return nil, fmt.Errorf("deployment %s/%s has %d containers (%s): name one as kube://%s/%s/<container>", t.Namespace, t.Deployment, len(cs), strings.Join(names, ", "), t.Namespace, t.Deployment)
		}
		return &cs[0], nil
	}
	for i := range cs {
		if cs[i].Name == t.Container {
			return &cs[i], nil
		}
	}
	return nil, fmt.Errorf("deployment %s/%s has no container %q", t.Namespace, t.Deployment, t.Container)
}

// snapshotOf reads the managed variables of the target container.
func snapshotOf(d *appsv1.Deployment, t Target, names []string) (Snapshot, *corev1.Container, error) {
	c, err := container(d, t)
	if err != nil {
		return Snapshot{}, nil, err
	}
	if t.Container == "" {
		t.Container = c.Name
	}
	s := Snapshot{Target: t}
	for _, n := range names {
		ev := EnvValue{Name: n}
		for _, e := range c.Env {
			if e.Name == n {
				ev = EnvValue{Name: n, Present: true, Value: e.Value, ValueFrom: e.ValueFrom}
			}
		}
		s.Env = append(s.Env, ev)
	}
	return s, c, nil
}

// recorded reads the snapshot annotation, if any.
func recorded(d *appsv1.Deployment) (Snapshot, bool, error) {
	raw, ok := d.Annotations[Annotation]
	if !ok {
		return Snapshot{}, false, nil
	}
	var s Snapshot
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return Snapshot{}, false, fmt.Errorf("deployment %s/%s: annotation %s is not a poolpilot snapshot: %v (remove it by hand if it is stale)", d.Namespace, d.Name, Annotation, err)
	}
	return s, true, nil
}

// wanted is the env the size sets, as EnvValues.
func wanted(size plan.PoolSize) []EnvValue {
	return []EnvValue{
		{Name: EnvMax, Present: true, Value: strconv.Itoa(size.Max)},
		{Name: EnvMin, Present: true, Value: strconv.Itoa(size.Min)},
	}
}

// sameEnv reports whether the container's managed env already equals want.
func sameEnv(cur Snapshot, want []EnvValue) bool {
	m := map[string]EnvValue{}
	for _, e := range cur.Env {
		m[e.Name] = e
	}
	for _, w := range want {
		c := m[w.Name]
		if c.Present != w.Present || c.Value != w.Value || !sameRef(c.ValueFrom, w.ValueFrom) {
			return false
		}
	}
	return true
}

func sameRef(a, b *corev1.EnvVarSource) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// buildPatch is the strategic-merge patch that sets env on the container and
// writes the annotation (nil annotation leaves it alone).
func buildPatch(container string, env []EnvValue, annotation *Snapshot) ([]byte, error) {
	sorted := append([]EnvValue(nil), env...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var items []map[string]any
	for _, e := range sorted {
		switch {
		case !e.Present:
			items = append(items, map[string]any{"name": e.Name, "$patch": "delete"})
		case e.ValueFrom != nil:
			items = append(items, map[string]any{"name": e.Name, "value": nil, "valueFrom": e.ValueFrom})
		default:
			items = append(items, map[string]any{"name": e.Name, "value": e.Value, "valueFrom": nil})
		}
	}
	p := map[string]any{
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": container, "env": items}},
		}}},
	}
	if annotation != nil {
		b, err := json.Marshal(annotation)
		if err != nil {
			return nil, err
		}
		p["metadata"] = map[string]any{"annotations": map[string]string{Annotation: string(b)}}
	}
	return json.Marshal(p)
}
