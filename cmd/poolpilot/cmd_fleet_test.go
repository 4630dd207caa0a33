package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgbouncertest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// fakeAPIServer serves one Deployment (3 replicas, DB_POOL_MAX=10) and an
// HPA (maxReplicas 10) like a Kubernetes API server would.
func fakeAPIServer(t *testing.T) string {
	t.Helper()
	dep := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"ledgerd","namespace":"prod","generation":4},
"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"app","image":"ledgerd:1","env":[{"name":"DB_POOL_MAX","value":"10"},{"name":"DB_POOL_MIN","value":"2"}]}]}}},
"status":{"observedGeneration":4,"replicas":3,"updatedReplicas":3,"availableReplicas":3}}`
	hpas := `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscalerList","metadata":{},"items":[
{"metadata":{"name":"ledgerd","namespace":"prod"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"ledgerd"},"maxReplicas":10}}]}`
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method != http.MethodGet:
			http.Error(w, "dry run must not write", http.StatusMethodNotAllowed)
		case r.URL.Path == "/apis/apps/v1/namespaces/prod/deployments/ledgerd":
			fmt.Fprint(w, dep)
		case r.URL.Path == "/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers":
			fmt.Fprint(w, hpas)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		}
	}))
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: %q, insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n", srv.URL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKubeDryRun(t *testing.T) {
	kc := fakeAPIServer(t)
	out, stderr, code := runCLI(t, nil, "kube", "dry-run", "--target", "kube://prod/ledgerd/app", "--to", "200:20", "--from", "10:2", "--kubeconfig", kc)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"previous: DB_POOL_MAX=10 DB_POOL_MIN=2",
		`{"name":"DB_POOL_MAX","value":"200","valueFrom":null}`,
		"max surge 3 (maxSurge default 25% of 10, rounded up)",
		"peak client connections = 13 pods × DB_POOL_MAX 200 = 2600",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runCLI(t, nil, "kube", "dry-run", "--target", "kube://prod/ledgerd/app", "--to", "200:20", "--kubeconfig", kc, "--json")
	var res struct {
		Fleet struct {
			MaxReplicas int `json:"max_replicas"`
			MaxSurge    int `json:"max_surge"`
		} `json:"fleet"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.Fleet.MaxReplicas != 10 || res.Fleet.MaxSurge != 3 {
		t.Errorf("--json: exit %d, %v, %+v\n%s", code, err, res, out)
	}
	for args, want := range map[string]string{
		"--target http://x --to 200:20":                 "--target:",
		"--target kube://prod/ledgerd/app --to 200":     "--to:",
		"--target kube://prod/ledgerd/app --to 20:200":  "--to:",
		"--target kube://prod/missing/app --to 200:20":  "get deployment prod/missing",
		"--target kube://prod/ledgerd/side --to 200:20": `no container "side"`,
	} {
		_, stderr, code := runCLI(t, nil, append([]string{"kube", "dry-run", "--kubeconfig", kc}, strings.Fields(args)...)...)
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", args, code, stderr, want)
		}
	}
}

func TestPgBouncerShowAndBudget(t *testing.T) {
	direct := pgtest.NewDatabase(t)
	u, _ := url.Parse(direct)
	port, _ := strconv.Atoi(u.Port())
	db := strings.TrimPrefix(u.Path, "/")
	b := pgbouncertest.New(t, pgbouncertest.Options{UpstreamPort: port, PoolMode: "transaction", PoolSize: 5, MaxClients: 500})
	env := map[string]string{"PGBOUNCER_ADMIN_URL": b.URL("pgbouncer"), "DATABASE_URL": direct}
	getenv := func(k string) string { return env[k] }
	out, stderr, code := runCLI(t, getenv, "pgbouncer", "show")
	if code != 0 || !strings.Contains(out, "pool_mode transaction, default_pool_size 5") || !strings.Contains(out, "max_client_conn 500") {
		t.Fatalf("show: exit %d\n%s\n%s", code, out, stderr)
	}
	out, stderr, code = runCLI(t, getenv, "pgbouncer", "budget", "--database", db, "--instances", "3", "--pool-max", "200")
	if code != poolpilot.ExitRefused || !strings.Contains(out, "= 600 > (DOES NOT FIT) max_client_conn 500") {
		t.Fatalf("3 × 200: exit %d\n%s\n%s", code, out, stderr)
	}
	out, stderr, code = runCLI(t, getenv, "pgbouncer", "budget", "--database", db, "--instances", "2", "--pool-max", "200", "--json")
	var bud struct {
		OK                bool `json:"ok"`
		ServerConnections int  `json:"server_connections"`
	}
	if err := json.Unmarshal([]byte(out), &bud); code != 0 || err != nil || !bud.OK || bud.ServerConnections != 5 {
		t.Fatalf("2 × 200: exit %d %v %+v\n%s\n%s", code, err, bud, out, stderr)
	}
	for _, tc := range []struct {
		env  map[string]string
		args string
		want string
	}{
		{map[string]string{}, "show", "PGBOUNCER_ADMIN_URL is empty"},
		{map[string]string{"PGBOUNCER_ADMIN_URL": b.URL(db)}, "show", `want "pgbouncer"`},
		{env, "budget --instances 2 --pool-max 200", "--database is required"},
		{env, "budget --database x --instances 0 --pool-max 200", "must be at least 1"},
		{map[string]string{"PGBOUNCER_ADMIN_URL": b.URL("pgbouncer")}, "budget --database x --instances 1 --pool-max 1", "DATABASE_URL is empty"},
	} {
		_, stderr, code := runCLI(t, func(k string) string { return tc.env[k] }, append([]string{"pgbouncer"}, strings.Fields(tc.args)...)...)
		if code != poolpilot.ExitBadInput || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
}
