package reliability

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/plan"
)

// TestPreflightRefusesAHealthDocumentLackingFields: the built binary's
// preflight against a service (in another language) whose /healthz names
// its fields errorRate and latencyP95Ms and omits pool.wait_*, while it
// reports 30 % errors and a 4 s p95: exit 4, each criterion named with the
// field it lacks, and baseline_health failing for want of request data.
// Before, the absent fields read as 0 and every criterion was ok.
func TestPreflightRefusesAHealthDocumentLackingFields(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok","pool":{"max":10,"min":2,"total":2,"acquired":0,"idle":2,"utilization":0,"acquires":10,"opened":2,"closed":0,"acquire_timeouts":0,"server_refusals":0,"waiting":0,"oldest_wait_ms":0,"churn":0},
		  "requests":{"total":1200,"errors":360,"errorRate":0.3,"latencyP95Ms":4000,"window_seconds":60}}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	p := runtest.Plan(t, "misnamed", []string{srv.URL + "/healthz"}, dir, 10*time.Second, plan.PoolSize{Max: 20, Min: 5})
	file := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(file, p.YAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": pgtest.SharedURL(t), "POOLPILOT_ADMIN_TOKEN": fixtureToken}
	out, stderr, code := runBinary(t, env, time.Minute, "preflight", file)
	if code != 4 {
		t.Fatalf("exit %d, want 4\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"criterion error_rate: metric error_rate: field requests.error_rate absent from the health document of instance-1",
		"criterion latency_p95: metric latency_p95_ms: field requests.latency_p95_ms absent",
		"criterion pool_wait_p95: metric pool.wait_p95_ms: field pool.wait_p95_ms absent",
		"no request data: fields requests.error_rate, requests.latency_p95_ms absent from the health document",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("preflight output lacks %q:\n%s", want, out)
		}
	}
}
