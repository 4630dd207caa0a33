package kube

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/poolpilot/poolpilot/internal/kubetest"
	"github.com/poolpilot/poolpilot/plan"
)

var (
	seedFrom = plan.PoolSize{Max: 10, Min: 2}
	seedTo   = plan.PoolSize{Max: 200, Min: 20}
)

func inst(target string) plan.Instance {
	return plan.Instance{Name: "ledgerd", HealthURL: "http://ledgerd.prod.svc:8080/healthz", AdminURL: target}
}

func TestApplyThenRollbackRestoresExactEnv(t *testing.T) {
	fromConfigMap := &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "pool"}, Key: "min"}}
	cases := map[string][]corev1.EnvVar{
		"literal values":           {{Name: "DATABASE_URL", Value: "postgres://db/ledger"}, {Name: "DB_POOL_MAX", Value: "10"}, {Name: "DB_POOL_MIN", Value: "2"}, {Name: "LOG", Value: "info"}},
		"min absent":               {{Name: "DB_POOL_MAX", Value: "10"}, {Name: "LOG", Value: "info"}},
		"min from a config map":    {{Name: "DB_POOL_MAX", Value: "10"}, {Name: "DB_POOL_MIN", ValueFrom: fromConfigMap}},
		"no pool variables at all": {{Name: "LOG", Value: "debug"}},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			c := kubetest.New(t, deployment("prod", "ledgerd", 3, env))
			d := driverOn(c, seedFrom)
			var log bytes.Buffer
			if err := d.Apply(context.Background(), inst("kube://prod/ledgerd/app"), seedTo, &log); err != nil {
				t.Fatalf("apply: %v\n%s", err, log.String())
			}
			after := c.Get("prod", "ledgerd")
			got := map[string]corev1.EnvVar{}
			for _, e := range envOf(t, after, "app") {
				got[e.Name] = e
			}
			if got["DB_POOL_MAX"] != (corev1.EnvVar{Name: "DB_POOL_MAX", Value: "200"}) || got["DB_POOL_MIN"] != (corev1.EnvVar{Name: "DB_POOL_MIN", Value: "20"}) {
				t.Errorf("env after apply: %+v", envOf(t, after, "app"))
			}
			if side := envOf(t, after, "sidecar"); len(side) != 1 || side[0].Value != "5" {
				t.Errorf("sidecar env changed: %+v", side)
			}
			if s := snapshotAnnotation(t, after); s.State != StateApplied || s.Run != "run-1" {
				t.Errorf("snapshot %+v", s)
			}
			if !strings.Contains(log.String(), "previous env DB_POOL_MAX") || !strings.Contains(log.String(), "rollout complete") {
				t.Errorf("log does not name the previous env and the rollout:\n%s", log.String())
			}
			log.Reset()
			if err := d.Apply(context.Background(), inst("kube://prod/ledgerd/app"), seedFrom, &log); err != nil {
				t.Fatalf("rollback: %v\n%s", err, log.String())
			}
			back := c.Get("prod", "ledgerd")
			if !equalEnv(envOf(t, back, "app"), env) {
				t.Errorf("env after rollback\n got %+v\nwant %+v", envOf(t, back, "app"), env)
			}
			if s := snapshotAnnotation(t, back); s.State != StateRestored {
				t.Errorf("snapshot state %q after rollback", s.State)
			}
			if back.Generation != 6 {
				t.Errorf("generation %d, want 6 (two template changes)", back.Generation)
			}
			t.Log(log.String())
		})
	}
}

// equalEnv compares env lists as sets keyed by name (a strategic merge may
// append instead of keeping the original position).
func equalEnv(a, b []corev1.EnvVar) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]corev1.EnvVar{}
	for _, e := range a {
		m[e.Name] = e
	}
	for _, e := range b {
		if x, ok := m[e.Name]; !ok || !equality.Semantic.DeepEqual(x, e) {
			return false
		}
	}
	return true
}

func TestApplyIsIdempotentAndKeepsTheFirstSnapshot(t *testing.T) {
	env := []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "10"}, {Name: "DB_POOL_MIN", Value: "2"}}
	c := kubetest.New(t, deployment("prod", "ledgerd", 2, env))
	d := driverOn(c, seedFrom)
	var log bytes.Buffer
	for i := 0; i < 2; i++ {
		if err := d.Apply(context.Background(), inst("kube://prod/ledgerd/app"), seedTo, &log); err != nil {
			t.Fatal(err)
		}
	}
	if c.Patches() != 1 {
		t.Errorf("%d patches, want 1 (the second apply finds the env at size)", c.Patches())
	}
	s := snapshotAnnotation(t, c.Get("prod", "ledgerd"))
	if got := s.String(); got != "DB_POOL_MAX=10 DB_POOL_MIN=2" {
		t.Errorf("snapshot %q, want the env before the first apply", got)
	}
	// A rollback twice (resume after a crash) patches once.
	for i := 0; i < 2; i++ {
		if err := d.Apply(context.Background(), inst("kube://prod/ledgerd/app"), seedFrom, &log); err != nil {
			t.Fatal(err)
		}
	}
	if c.Patches() != 2 {
		t.Errorf("%d patches after two rollbacks, want 2", c.Patches())
	}
}

func TestStaleSnapshotOfAnotherRunIsNotRestored(t *testing.T) {
	env := []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "10"}, {Name: "DB_POOL_MIN", Value: "2"}}
	dep := deployment("prod", "ledgerd", 2, env)
	dep.Annotations = map[string]string{Annotation: `{"target":{"namespace":"prod","deployment":"ledgerd","container":"app"},"run":"old","state":"applied","env":[{"name":"DB_POOL_MAX","present":true,"value":"99"}]}`}
	c := kubetest.New(t, dep)
	d := driverOn(c, seedFrom)
	var log bytes.Buffer
	if err := d.Apply(context.Background(), inst("kube://prod/ledgerd/app"), seedTo, &log); err != nil {
		t.Fatal(err)
	}
	if s := snapshotAnnotation(t, c.Get("prod", "ledgerd")); s.Run != "run-1" || s.String() != "DB_POOL_MAX=10 DB_POOL_MIN=2" {
		t.Errorf("snapshot %+v: want this run's, of the env before it", s)
	}
}

func TestRolloutFailures(t *testing.T) {
	for _, tc := range []struct {
		mode         kubetest.Mode
		reason, text string
	}{
		{kubetest.Fail, ReasonProgressDeadlineExceeded, "has timed out progressing"},
		{kubetest.Stuck, "timeout", "not complete after 1m0s: generation 5: 1/3 updated, 3/3 available, 4 total"},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			c := kubetest.New(t, deployment("prod", "ledgerd", 3, nil))
			c.Mode = tc.mode
			d := driverOn(c, seedFrom)
			var log bytes.Buffer
			start := c.Clock.Now()
			err := d.Apply(context.Background(), inst("kube://prod/ledgerd/app"), seedTo, &log)
			var re *RolloutError
			if !errors.As(err, &re) || re.Reason != tc.reason || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %v, want a %s rollout error containing %q\n%s", err, tc.reason, tc.text, log.String())
			}
			if !strings.Contains(err.Error(), "deployment prod/ledgerd") {
				t.Errorf("error does not name the deployment: %v", err)
			}
			if el := c.Clock.Now().Sub(start); tc.mode == kubetest.Stuck && el < d.Timeout {
				t.Errorf("gave up after %s, before the %s timeout", el, d.Timeout)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	dep := deployment("prod", "ledgerd", 1, nil)
	c := kubetest.New(t, dep)
	d := driverOn(c, seedFrom)
	for target, want := range map[string]string{
		"":                             "admin_url must name the Deployment",
		"kube://prod/ledgerd":          "has 2 containers (app, sidecar)",
		"kube://prod/ledgerd/worker":   `no container "worker"`,
		"kube://prod/missing/app":      "get deployment prod/missing",
		"http://127.0.0.1:8080":        "want kube://namespace/deployment",
		"kube://prod/Ledgerd/app":      `deployment "Ledgerd" is not a DNS name`,
		"kube://prod/ledgerd/app/more": "want kube://namespace/deployment",
	} {
		err := d.Apply(context.Background(), inst(target), seedTo, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("target %q: err %v, want %q", target, err, want)
		}
	}
	if c.Patches() != 0 {
		t.Errorf("%d patches after errors", c.Patches())
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"kube://prod/ledgerd":     {Namespace: "prod", Deployment: "ledgerd"},
		"kube://prod/ledgerd/app": {Namespace: "prod", Deployment: "ledgerd", Container: "app"},
		"kube://a-b/c.d/e-1/":     {Namespace: "a-b", Deployment: "c.d", Container: "e-1"},
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", in, got, err)
		}
		if back, _ := ParseTarget(got.String()); back != got {
			t.Errorf("%s does not round-trip: %s", in, got)
		}
	}
	for _, bad := range []string{"kube://", "kube:///ledgerd", "kube://prod", "kube://prod/", "kube://u@prod/x", "kube://prod:1/x", "kube://prod/x?y=1", "kube://prod/-x"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
