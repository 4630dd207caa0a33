package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
)

// histPool is a fakePool that also exposes an acquire-wait histogram.
type histPool struct{ *fakePool }

func (histPool) AcquireWaitHistogram() poolpilot.Histogram {
	return poolpilot.Histogram{Count: 10, SumSeconds: 0.05,
		Buckets: map[float64]uint64{0.001: 4, 0.01: 9, 0.1: 10}}
}

// promtoolCheck runs the real `promtool check metrics` on text and returns
// what it printed. promtool must be installed (Debian package prometheus):
// the test fails, never skips, without it.
func promtoolCheck(t *testing.T, text []byte) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (%v): install it with `apt-get install prometheus`", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func scrape(t *testing.T, h http.Handler) []byte {
	t.Helper()
	w := serve(h, "GET", "/metrics", "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain…", ct)
	}
	return w.Body.Bytes()
}

func TestMetricsPromtoolClean(t *testing.T) {
	for _, withExtras := range []bool{false, true} {
		pool := newFakePool()
		var p poolpilot.Pool = pool
		if withExtras {
			pool.budget = &poolpilot.Budget{MaxConnections: 100, Available: 90, OK: false}
			p = histPool{pool}
		}
		srv := New(Options{Pool: p, Clock: newFakeClock()})
		app := srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		serve(app, "GET", "/", "")
		text := scrape(t, srv.Handler())
		if out, err := promtoolCheck(t, text); out != "" || err != nil {
			t.Errorf("promtool check metrics (extras=%v) failed (%v) and printed:\n%s\n--- metrics ---\n%s", withExtras, err, out, text)
		}
	}
}

func TestMetricsContent(t *testing.T) {
	pool := newFakePool()
	pool.budget = &poolpilot.Budget{MaxConnections: 100, Available: 90, OK: true}
	srv := New(Options{Pool: histPool{pool}, Clock: newFakeClock()})
	serve(srv.Middleware(http.NotFoundHandler()), "DELETE", "/x", "")
	text := string(scrape(t, srv.Handler()))
	for _, want := range []string{
		"poolpilot_pool_max_connections 10\n",
		"poolpilot_pool_min_connections 2\n",
		"poolpilot_pool_connections 4\n",
		"poolpilot_pool_acquired_connections 3\n",
		"poolpilot_pool_idle_connections 1\n",
		"poolpilot_pool_constructing_connections 0\n",
		"poolpilot_pool_waiting_callers 0\n",
		"poolpilot_pool_oldest_wait_seconds 0\n",
		"poolpilot_pool_utilization_ratio 0.3\n",
		"poolpilot_pool_acquire_wait_p50_seconds 0.0005\n",
		"poolpilot_pool_acquire_wait_p95_seconds 0.004\n",
		"poolpilot_pool_acquire_wait_p99_seconds 0.009\n",
		"poolpilot_pool_idle_timeout_seconds 30\n",
		"poolpilot_pool_acquires_total 100\n",
		"poolpilot_pool_acquire_timeouts_total 1\n",
		"poolpilot_pool_acquire_cancels_total 0\n",
		"poolpilot_pool_server_refusals_total 0\n",
		"poolpilot_pool_connections_opened_total 6\n",
		`poolpilot_pool_connections_closed_total{reason="idle"} 2` + "\n",
		"poolpilot_pool_resizes_total 0\n",
		`poolpilot_pool_info{pooler="",query_mode=""} 1` + "\n",
		"poolpilot_pool_server_max_connections 100\n",
		"poolpilot_pool_budget_ok 1\n",
		`poolpilot_pool_acquire_wait_seconds_bucket{le="0.01"} 9` + "\n",
		`poolpilot_pool_acquire_wait_seconds_bucket{le="+Inf"} 10` + "\n",
		"poolpilot_pool_acquire_wait_seconds_count 10\n",
		`http_requests_total{code="404",method="DELETE"} 1` + "\n",
		`http_request_duration_seconds_count{code="404",method="DELETE"} 1` + "\n",
		"# HELP poolpilot_pool_utilization_ratio ",
		"# TYPE poolpilot_pool_acquires_total counter",
		"go_goroutines ", // runtime collectors on a registry of our own
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", text)
	}
}

func TestMetricsReadPoolAtScrapeTime(t *testing.T) {
	pool := newFakePool()
	srv := New(Options{Pool: pool})
	if got := counterValue(t, srv, "poolpilot_pool_acquired_connections"); got != 3 {
		t.Fatalf("acquired = %v, want 3", got)
	}
	pool.mu.Lock()
	pool.stats.Acquired, pool.stats.Closed, pool.stats.ClosedByReason = 9, 5, map[string]int64{"idle": 2, "lifetime": 1}
	pool.mu.Unlock()
	if got := counterValue(t, srv, "poolpilot_pool_acquired_connections"); got != 9 {
		t.Errorf("acquired = %v after the pool changed, want 9", got)
	}
	for reason, want := range map[string]float64{"idle": 2, "lifetime": 1, "other": 2} {
		if got := counterValue(t, srv, "poolpilot_pool_connections_closed_total", "reason", reason); got != want {
			t.Errorf("closed{reason=%s} = %v, want %v", reason, got, want)
		}
	}
}

func TestMetricsInjectedRegistryOnly(t *testing.T) {
	e := newTestEnv(t, nil)
	reg := e.srv.Registry()
	if reg == nil {
		t.Fatal("nil registry")
	}
	// An injected registry gets only poolpilot's collectors, and two
	// servers may share it without a panic.
	srv1 := New(Options{Pool: newFakePool(), Registry: reg})
	if srv1.Registry() != reg {
		t.Errorf("injected registry not used")
	}
	serve(srv1.Middleware(http.NotFoundHandler()), "GET", "/", "")
	if got := counterValue(t, e.srv, "http_requests_total", "code", "404"); got != 1 {
		t.Errorf("shared request counter = %v, want 1", got)
	}
}

func TestMetricsMethods(t *testing.T) {
	e := newTestEnv(t, nil)
	if w := e.do("HEAD", "/metrics", ""); w.Code != 200 {
		t.Errorf("HEAD: %d", w.Code)
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		if w := e.do(m, "/metrics", ""); w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d %q, want 405 GET, HEAD", m, w.Code, w.Header().Get("Allow"))
		}
	}
}

// TestPromtoolDetectsProblems proves promtoolCheck would catch a lint problem.
func TestPromtoolDetectsProblems(t *testing.T) {
	bad := "# HELP pool_wait_ms wait\n# TYPE pool_wait_ms counter\npool_wait_ms 1\n"
	if out, err := promtoolCheck(t, []byte(bad)); err == nil || !strings.Contains(out, "_total") {
		t.Errorf("promtool did not flag a counter without _total: %v %q", err, out)
	}
}
