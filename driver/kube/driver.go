package kube

import (
	"context"
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/plan"
)

// Driver applies a pool size by patching a Deployment's env and waiting for
// the rollout. It implements change.Driver.
type Driver struct {
	Client kubernetes.Interface
	// From is the plan's change.from. Apply(From) on a Deployment that holds
	// this run's snapshot is a rollback: it restores the snapshot exactly.
	From plan.PoolSize
	// Run identifies the run in the snapshot (e.g. the plan's SHA-256), so a
	// stale snapshot of an earlier run is never restored.
	Run string
	// Timeout bounds the wait for a rollout (0: DefaultTimeout).
	Timeout time.Duration
	// Poll is the pause between rollout checks (default 2 seconds).
	Poll time.Duration
	// Clock and Wait make the rollout wait testable; nil means real time.
	Clock poolpilot.Clock
	Wait  func(ctx context.Context, d time.Duration) error
	// FieldManager names poolpilot in the Deployment's managed fields.
	FieldManager string
	// Retry is the policy for transient API failures (conflict, 5xx,
	// throttling, network); its Within defaults to Timeout.
	Retry driver.Retry

	clientErr error // why New could not build Client
}

// Name is plan.DriverKube.
func (d *Driver) Name() string { return plan.DriverKube }

// Apply patches the target Deployment of inst to size and waits for the
// rollout. It is idempotent: an env already at size is not patched again.
func (d *Driver) Apply(ctx context.Context, inst plan.Instance, size plan.PoolSize, log io.Writer) error {
	t, err := TargetOf(inst)
	if err != nil {
		return err
	}
	// Read, decide and patch are retried together: after a conflict the
	// patch is decided again on the Deployment as it is now.
	err = d.retry().Do(ctx, "kube "+t.String()+": read and patch", log, func(ctx context.Context) error {
		patch, summary, err := d.plan(ctx, t, size)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "kube %s: %s\n", t, summary)
		if patch == nil {
			return nil
		}
		return d.patch(ctx, t, patch, log)
	})
	if err != nil {
		return err
	}
	return d.WaitRollout(ctx, t, log)
}

// plan decides the patch for size: a forward change records a snapshot, a
// change back to From restores this run's snapshot. A nil patch means the
// env is already right.
func (d *Driver) plan(ctx context.Context, t Target, size plan.PoolSize) ([]byte, string, error) {
	dep, err := d.get(ctx, t)
	if err != nil {
		return nil, "", err
	}
	cur, c, err := snapshotOf(dep, t, []string{EnvMax, EnvMin})
	if err != nil {
		return nil, "", err
	}
	rec, has, err := recorded(dep)
	if err != nil {
		return nil, "", err
	}
	mine := has && rec.Run == d.Run
	if size == d.From && mine {
		summary := "rollback: restoring the recorded env " + rec.String() + " (now " + cur.String() + ")"
		if sameEnv(cur, rec.Env) && rec.State == StateRestored {
			return nil, summary + "; already restored", nil
		}
		rec.State = StateRestored
		p, err := buildPatch(c.Name, rec.Env, &rec)
		return p, summary, err
	}
	want := wanted(size)
	var ann *Snapshot
	summary := "previous env " + cur.String()
	if mine && rec.State == StateApplied {
		summary = "previous env (recorded earlier in this run) " + rec.String() + "; now " + cur.String()
	} else {
		cur.Run, cur.State = d.Run, StateApplied
		ann = &cur
		summary += " (recorded in annotation " + Annotation + ")"
		if s, ok := cur.Size(); size != d.From && (!ok || s != d.From) {
			summary += fmt.Sprintf("; note: this differs from the plan's change.from %d:%d, and rollback restores the recorded env", d.From.Max, d.From.Min)
		}
	}
	if sameEnv(cur, want) && ann == nil {
		return nil, summary + "; env already at " + Snapshot{Env: want}.String(), nil
	}
	p, err := buildPatch(c.Name, want, ann)
	return p, summary, err
}

func (d *Driver) get(ctx context.Context, t Target) (*appsv1.Deployment, error) {
	dep, err := d.Client.AppsV1().Deployments(t.Namespace).Get(ctx, t.Deployment, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get deployment %s/%s: %w", t.Namespace, t.Deployment, err)
	}
	return dep, nil
}

func (d *Driver) patch(ctx context.Context, t Target, patch []byte, log io.Writer) error {
	fm := d.FieldManager
	if fm == "" {
		fm = "poolpilot"
	}
	fmt.Fprintf(log, "kube %s: strategic-merge patch %s\n", t, patch)
	dep, err := d.Client.AppsV1().Deployments(t.Namespace).Patch(ctx, t.Deployment, types.StrategicMergePatchType, patch, metav1.PatchOptions{FieldManager: fm})
	if err != nil {
		return fmt.Errorf("patch deployment %s/%s: %w", t.Namespace, t.Deployment, err)
	}
	fmt.Fprintf(log, "kube %s: patched, generation %d\n", t, dep.Generation)
	return nil
}

// Snapshot reads the target container's managed env as it is now.
func (d *Driver) Snapshot(ctx context.Context, t Target) (Snapshot, error) {
	dep, err := d.get(ctx, t)
	if err != nil {
		return Snapshot{}, err
	}
	s, _, err := snapshotOf(dep, t, []string{EnvMax, EnvMin})
	return s, err
}

// Recorded reads the snapshot a change recorded on the Deployment, if any.
func (d *Driver) Recorded(ctx context.Context, t Target) (Snapshot, bool, error) {
	dep, err := d.get(ctx, t)
	if err != nil {
		return Snapshot{}, false, err
	}
	return recorded(dep)
}

// Restore puts snap's env back exactly (absent variables are removed,
// references restored), marks the annotation restored, and waits for the
// rollout.
func (d *Driver) Restore(ctx context.Context, snap Snapshot, log io.Writer) error {
	t := snap.Target
	dep, err := d.get(ctx, t)
	if err != nil {
		return err
	}
	c, err := container(dep, t)
	if err != nil {
		return err
	}
	snap.State = StateRestored
	p, err := buildPatch(c.Name, snap.Env, &snap)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "kube %s: restoring %s\n", t, snap)
	err = d.retry().Do(ctx, "kube "+t.String()+": restore", log, func(ctx context.Context) error { return d.patch(ctx, t, p, log) })
	if err != nil {
		return err
	}
	return d.WaitRollout(ctx, t, log)
}
