package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/poolpilot/poolpilot/internal/kubetest"
	"github.com/poolpilot/poolpilot/plan/plantest"
)

func hpa(ns, name, target string, maxReplicas int32) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: target, APIVersion: "apps/v1"},
			MaxReplicas:    maxReplicas,
		},
	}
}

func TestReadFleet(t *testing.T) {
	surge := func(v intstr.IntOrString) func(*appsv1.Deployment) {
		return func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &v}}
		}
	}
	cases := []struct {
		name   string
		edit   func(*appsv1.Deployment)
		others []runtime.Object
		want   Fleet
	}{
		{"default surge, no HPA", nil, nil, Fleet{Replicas: 3, MaxReplicas: 3, MaxSurge: 1, SurgeSpec: "default 25%"}},
		{"HPA and 25% rounds up", surge(intstr.FromString("25%")), []runtime.Object{hpa("prod", "ledgerd", "ledgerd", 10), hpa("prod", "other", "worker", 50)}, Fleet{Replicas: 3, MaxReplicas: 10, HPA: "ledgerd", MaxSurge: 3, SurgeSpec: "25%"}},
		{"absolute surge", surge(intstr.FromInt32(2)), []runtime.Object{hpa("prod", "web", "ledgerd", 10)}, Fleet{Replicas: 3, MaxReplicas: 10, HPA: "web", MaxSurge: 2, SurgeSpec: "2"}},
		{"recreate", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType }, nil, Fleet{Replicas: 3, MaxReplicas: 3, Strategy: "Recreate"}},
		{"HPA in another namespace", nil, []runtime.Object{hpa("staging", "ledgerd", "ledgerd", 40)}, Fleet{Replicas: 3, MaxReplicas: 3, MaxSurge: 1, SurgeSpec: "default 25%"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dep := deployment("prod", "ledgerd", 3, nil)
			if tc.edit != nil {
				tc.edit(dep)
			}
			c := kubetest.New(t, append(tc.others, dep)...)
			tgt := Target{Namespace: "prod", Deployment: "ledgerd", Container: "app"}
			got, err := ReadFleet(context.Background(), driverOn(c, seedFrom), tgt)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Target = tgt
			if tc.want.Strategy == "" {
				tc.want.Strategy = "RollingUpdate"
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDryRunPrintsExactPatchAndArithmetic(t *testing.T) {
	dep := deployment("prod", "ledgerd", 3, []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "10"}, {Name: "DB_POOL_MIN", Value: "2"}})
	c := kubetest.New(t, dep, hpa("prod", "ledgerd", "ledgerd", 10))
	res, err := driverOn(c, seedFrom).DryRun(context.Background(), inst("kube://prod/ledgerd/app"), seedTo)
	if err != nil {
		t.Fatal(err)
	}
	wantPatch := `{"metadata":{"annotations":{"poolpilot.dev/previous-env":"{\"target\":{\"namespace\":\"prod\",\"deployment\":\"ledgerd\",\"container\":\"app\"},\"run\":\"run-1\",\"state\":\"applied\",\"env\":[{\"name\":\"DB_POOL_MAX\",\"present\":true,\"value\":\"10\"},{\"name\":\"DB_POOL_MIN\",\"present\":true,\"value\":\"2\"}]}"}},` +
		`"spec":{"template":{"spec":{"containers":[{"env":[{"name":"DB_POOL_MAX","value":"200","valueFrom":null},{"name":"DB_POOL_MIN","value":"20","valueFrom":null}],"name":"app"}]}}}}`
	if string(res.Patch) != wantPatch {
		t.Errorf("patch\n got %s\nwant %s", res.Patch, wantPatch)
	}
	wantBudget := "replicas 3 (deployment prod/ledgerd spec.replicas)\n" +
		"max replicas 10 (HPA ledgerd maxReplicas)\n" +
		"max surge 3 (maxSurge default 25% of 10, rounded up)\n" +
		"peak pods = 10 + 3 = 13\n" +
		"peak client connections = 13 pods × DB_POOL_MAX 200 = 2600\n"
	if res.Budget != wantBudget {
		t.Errorf("budget\n got %s\nwant %s", res.Budget, wantBudget)
	}
	if res.Previous.String() != "DB_POOL_MAX=10 DB_POOL_MIN=2" {
		t.Errorf("previous %s", res.Previous)
	}
	if c.Patches() != 0 {
		t.Errorf("dry run patched %d times", c.Patches())
	}
	if _, err := json.Marshal(res); err != nil {
		t.Error(err)
	}
}

// TestNewClientFromKubeconfig points a generated kubeconfig at an httptest
// API server and reads a Deployment through the real client.
func TestNewClientFromKubeconfig(t *testing.T) {
	dep := deployment("prod", "ledgerd", 3, []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "10"}})
	dep.APIVersion, dep.Kind = "apps/v1", "Deployment"
	var auth string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/apps/v1/namespaces/prod/deployments/ledgerd" {
			http.NotFound(w, r)
			return
		}
		auth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(dep)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: poolpilot
  user: {token: test-token}
contexts:
- name: test
  context: {cluster: test, user: poolpilot, namespace: prod}
current-context: test
`, srv.URL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cs, err := NewClient(path)
	if err != nil {
		t.Fatal(err)
	}
	d := &Driver{Client: cs}
	s, err := d.Snapshot(context.Background(), Target{Namespace: "prod", Deployment: "ledgerd", Container: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "DB_POOL_MAX=10 DB_POOL_MIN unset" {
		t.Errorf("snapshot %s", s)
	}
	if auth != "Bearer test-token" {
		t.Errorf("Authorization %q, want the kubeconfig's token", auth)
	}
	// A $KUBECONFIG-style list: the first file is empty, the second holds
	// the cluster.
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	if cfg, err := LoadConfig(empty + string(os.PathListSeparator) + path); err != nil || cfg.Host != srv.URL {
		t.Errorf("kubeconfig list: host %v, err %v", cfg, err)
	}
	p := plantest.Seed(t)
	if d, err := New(p, path); err != nil || d.Run != p.SHA256() || d.From != p.Change.From {
		t.Errorf("New: %+v %v", d, err)
	}
	if _, err := NewClient(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "kubeconfig") {
		t.Errorf("missing kubeconfig: %v", err)
	}
}

func TestInClusterConfigNeedsServiceAccount(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
	t.Setenv("KUBERNETES_SERVICE_PORT", "6443")
	_, err := LoadConfig("")
	// Outside a pod the service-account token file is missing; the error
	// must say the in-cluster path was taken.
	if _, statErr := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/token"); statErr == nil {
		t.Skip("running inside a pod")
	}
	if err == nil || !strings.Contains(err.Error(), "in-cluster") {
		t.Errorf("err %v, want an in-cluster config error", err)
	}
}
