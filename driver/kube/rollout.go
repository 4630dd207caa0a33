package kube

import (
	"context"
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/poolpilot/poolpilot"
)

// ReasonProgressDeadlineExceeded is the Progressing condition's reason when
// a rollout stalled past spec.progressDeadlineSeconds.
const ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"

// RolloutError is a rollout that failed or did not finish in time.
type RolloutError struct {
	Target  Target
	Reason  string // ProgressDeadlineExceeded, or "timeout"
	Message string
}

func (e *RolloutError) Error() string {
	return fmt.Sprintf("rollout of deployment %s/%s: %s: %s", e.Target.Namespace, e.Target.Deployment, e.Reason, e.Message)
}

// WaitRollout polls the Deployment until its rollout is complete (the new
// generation observed, every replica updated and available, no old replica
// left), fails on ProgressDeadlineExceeded, and gives up after Timeout.
func (d *Driver) WaitRollout(ctx context.Context, t Target, log io.Writer) error {
	clock := d.Clock
	if clock == nil {
		clock = poolpilot.SystemClock{}
	}
	timeout, poll := d.timeout(), d.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	start := clock.Now()
	last := ""
	for {
		dep, err := d.get(ctx, t)
		if err != nil && (!transient(err) || ctx.Err() != nil || clock.Now().Sub(start) >= timeout) {
			return err
		}
		if err != nil { // a blip of the API server: poll again
			fmt.Fprintf(log, "kube %s: retry: reading the rollout failed (transient): %v; polling again in %s\n", t, err, poll)
			if err := d.wait(ctx, poll); err != nil {
				return fmt.Errorf("wait for rollout of %s/%s: %w", t.Namespace, t.Deployment, err)
			}
			continue
		}
		done, status, failed := rolloutStatus(dep)
		if failed != "" {
			fmt.Fprintf(log, "kube %s: rollout failed: %s\n", t, failed)
			return &RolloutError{Target: t, Reason: ReasonProgressDeadlineExceeded, Message: failed}
		}
		if status != last {
			fmt.Fprintf(log, "kube %s: %s (%s)\n", t, status, clock.Now().Sub(start).Round(time.Millisecond))
			last = status
		}
		if done {
			return nil
		}
		if clock.Now().Sub(start) >= timeout {
			return &RolloutError{Target: t, Reason: "timeout", Message: fmt.Sprintf("not complete after %s: %s", timeout, status)}
		}
		if err := d.wait(ctx, poll); err != nil {
			return fmt.Errorf("wait for rollout of %s/%s: %w", t.Namespace, t.Deployment, err)
		}
	}
}

// timeout is Timeout, or DefaultTimeout.
func (d *Driver) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

func (d *Driver) wait(ctx context.Context, dur time.Duration) error {
	if d.Wait != nil {
		return d.Wait(ctx, dur)
	}
	tm := time.NewTimer(dur)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// rolloutStatus follows kubectl rollout status: done, a status line, and a
// failure message when the progress deadline was exceeded.
func rolloutStatus(dep *appsv1.Deployment) (done bool, status, failed string) {
	if dep.Generation > dep.Status.ObservedGeneration {
		return false, fmt.Sprintf("waiting for generation %d to be observed (observed %d)", dep.Generation, dep.Status.ObservedGeneration), ""
	}
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == ReasonProgressDeadlineExceeded {
			return false, "", fmt.Sprintf("%s (%s)", c.Reason, c.Message)
		}
	}
	want := replicas(dep)
	st := dep.Status
	line := fmt.Sprintf("generation %d: %d/%d updated, %d/%d available, %d total", dep.Generation, st.UpdatedReplicas, want, st.AvailableReplicas, want, st.Replicas)
	switch {
	case st.UpdatedReplicas < want:
		return false, line, ""
	case st.Replicas > st.UpdatedReplicas:
		return false, line + fmt.Sprintf(", %d old pending termination", st.Replicas-st.UpdatedReplicas), ""
	case st.AvailableReplicas < want:
		return false, line, ""
	}
	return true, line + ": rollout complete", ""
}

func replicas(dep *appsv1.Deployment) int32 {
	if dep.Spec.Replicas == nil {
		return 1
	}
	return *dep.Spec.Replicas
}
