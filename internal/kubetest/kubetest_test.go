package kubetest

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/poolpilot/poolpilot/plan"
)

func patch(t *testing.T, c *Cluster, body string) {
	t.Helper()
	_, err := c.Clientset.AppsV1().Deployments("prod").Patch(context.Background(), "ledgerd", types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// A spec patch bumps the generation and starts a rollout that completes one
// pod per Wait, after which the prober reports the new env; a metadata-only
// patch does neither.
func TestRolloutMovesOneStepPerWait(t *testing.T) {
	ctx := context.Background()
	env := []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "10"}, {Name: "DB_POOL_MIN", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "pool"}, Key: "min"}}}}
	pool := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "prod", Name: "pool"}, Data: map[string]string{"min": "2"}}
	c := New(t, Deployment("prod", "ledgerd", 2, corev1.Container{Name: "app", Env: env}), pool)
	app := c.Prober("prod", "ledgerd", "app")
	if h, err := app.Health(ctx, plan.Instance{}); err != nil || h.Pool.Max != 10 || h.Pool.Min != 2 {
		t.Fatalf("before: %+v %v, want 10:2 (min from the ConfigMap)", h.Pool, err)
	}
	patch(t, c, `{"metadata":{"annotations":{"a":"b"}}}`)
	if g := c.Get("prod", "ledgerd").Generation; g != 4 || c.Patches() != 1 {
		t.Fatalf("metadata patch: generation %d, %d patches; want 4 and 1", g, c.Patches())
	}
	patch(t, c, `{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"DB_POOL_MAX","value":"200"}]}]}}}}`)
	if g := c.Get("prod", "ledgerd").Generation; g != 5 {
		t.Fatalf("spec patch: generation %d, want 5", g)
	}
	var updated []int32
	for i := 0; i < 3; i++ {
		if h, _ := app.Health(ctx, plan.Instance{}); h.Pool.Max != 10 {
			t.Fatalf("step %d: pods run max %d before the rollout completed", i, h.Pool.Max)
		}
		if err := c.Wait(ctx, time.Second); err != nil {
			t.Fatal(err)
		}
		updated = append(updated, c.Get("prod", "ledgerd").Status.UpdatedReplicas)
	}
	if want := []int32{0, 1, 2}; len(updated) != 3 || updated[0] != want[0] || updated[1] != want[1] || updated[2] != want[2] {
		t.Errorf("updated replicas per step %v, want %v", updated, want)
	}
	if h, err := app.Health(ctx, plan.Instance{}); err != nil || h.Pool.Max != 200 || h.Pool.Min != 2 {
		t.Errorf("after the rollout: %+v %v, want 200:2", h.Pool, err)
	}
	if got := c.Clock.Now().Sub(Start); got != 3*time.Second {
		t.Errorf("clock advanced %s, want 3s", got)
	}
}

func TestFailModeAndProberErrors(t *testing.T) {
	ctx := context.Background()
	bad := []corev1.EnvVar{{Name: "DB_POOL_MIN", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "min"}}}}
	c := New(t, Deployment("prod", "ledgerd", 3, corev1.Container{Name: "app", Env: bad}))
	c.Mode = Fail
	patch(t, c, `{"spec":{"replicas":4}}`)
	for i := 0; i < 2; i++ {
		if err := c.Wait(ctx, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	conds := c.Get("prod", "ledgerd").Status.Conditions
	if len(conds) != 1 || conds[0].Reason != ReasonProgressDeadlineExceeded || !strings.Contains(conds[0].Message, `"ledgerd-7d9"`) {
		t.Errorf("conditions %+v, want ProgressDeadlineExceeded", conds)
	}
	if _, err := c.Prober("prod", "ledgerd", "app").Health(ctx, plan.Instance{}); err == nil || !strings.Contains(err.Error(), `"missing" not found`) {
		t.Errorf("missing ConfigMap: %v", err)
	}
	if _, err := c.Prober("prod", "ledgerd", "worker").Health(ctx, plan.Instance{}); err == nil || !strings.Contains(err.Error(), "no running container worker") {
		t.Errorf("missing container: %v", err)
	}
	c.Mode = "sideways"
	if err := c.Wait(ctx, time.Second); err == nil || !strings.Contains(err.Error(), `unknown Mode "sideways"`) {
		t.Errorf("unknown mode: %v", err)
	}
}
