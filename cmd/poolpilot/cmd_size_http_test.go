package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/advisor"
	"github.com/poolpilot/poolpilot/httpapi"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestSizeHTTPBadInput(t *testing.T) {
	env := map[string]string{"POOLPILOT_ADMIN_TOKEN": "secret-token"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"size", "--http", "http://127.0.0.1:1/v1/x"}, "--admin-url is required"},
		{[]string{"size", "--http", "http://127.0.0.1:1/v1/x", "--admin-url", "http://127.0.0.1:1", "--token-env", "NO_SUCH_TOKEN"}, "NO_SUCH_TOKEN is empty"},
		{[]string{"size", "--http", "ftp://x", "--admin-url", "http://127.0.0.1:1"}, "--http: URL"},
		{[]string{"size", "--admin-url", "http://127.0.0.1:1"}, "--admin-url applies only with --http"},
		{[]string{"size", "--http", "http://127.0.0.1:1/v1/x", "--admin-url", "http://127.0.0.1:1", "--workload", "ledger"}, "--workload does not apply with --http"},
		{[]string{"size", "--http", "http://127.0.0.1:1/v1/x", "--admin-url", "http://127.0.0.1:1", "--clients", "0"}, "--clients 0"},
		{[]string{"size", "--http", "http://127.0.0.1:1/v1/x", "--admin-url", "http://127.0.0.1:1"}, "cannot read the service's health document"},
	} {
		out, stderr, code := runCLI(t, getenv, tc.args...)
		if code != poolpilot.ExitBadInput || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want 2 naming %q", tc.args, code, stderr, out, tc.want)
		}
		if strings.Contains(stderr, "secret-token") {
			t.Errorf("%v: the token leaked: %s", tc.args, stderr)
		}
	}
}

// sizedProxy forwards the driven requests to ledgerd and counts them by the
// pool max ledgerd has at the moment each one arrives.
type sizedProxy struct {
	mu     sync.Mutex
	counts map[int]int64
}

func newSizedProxy(t *testing.T, ld *ledgerdtest.Instance) (*sizedProxy, string) {
	u, err := url.Parse(ld.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := &sizedProxy{counts: map[int]int64{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ld.Server.Pool().Config().Max
		p.mu.Lock()
		p.counts[n]++
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func TestSizeHTTPOnLedgerd(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{AdminToken: "secret-token"})
	proxy, proxyURL := newSizedProxy(t, ld)
	getenv := func(k string) string { return map[string]string{"LEDGERD_TOKEN": "secret-token"}[k] }
	dir := t.TempDir()
	chart, saved := filepath.Join(dir, "size.svg"), filepath.Join(dir, "size.json")
	out, stderr, code := runCLI(t, getenv, "size", "--http", proxyURL+"/v1/tenants/t1/trial-balance",
		"--admin-url", ld.URL, "--health-url", ld.URL+"/healthz", "--token-env", "LEDGERD_TOKEN",
		"--max", "8", "--duration-per-step", "400ms", "--warmup", "100ms", "--json", "--chart", chart, "--save", saved)
	// On this shared machine a burst of other work can make two rounds of a
	// step disagree: then the refusal must be the noise refusal, naming the
	// step and its spread (the machinery checks below still apply).
	noisy := code == poolpilot.ExitFailed && strings.Contains(stderr, "too noisy") && strings.Contains(stderr, "rounds of the step at concurrency")
	if code != 0 && !noisy {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var rep advisor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if len(rep.Steps) != len(advisor.Ladder(8)) || rep.Clients != 16 {
		t.Fatalf("%d steps, %d clients; want the ladder to 8 with 2×8 clients\n%s", len(rep.Steps), rep.Clients, out)
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	for i, s := range rep.Steps {
		// The service showed the step's size after the step, and at least the
		// step's measured requests reached it while its pool had that size.
		if s.Concurrency != advisor.Ladder(8)[i] || s.PoolMax != s.Concurrency || s.Clients != 16 || s.Requests == 0 ||
			s.Errors != 0 || proxy.counts[s.Concurrency] < s.Requests {
			t.Errorf("step %+v; requests seen at pool max %d: %d", s, s.Concurrency, proxy.counts[s.Concurrency])
		}
	}
	for n, c := range proxy.counts {
		if n != 10 && (n > 8 || proxy.counts[n] == 0) || n == 10 && c > 1 {
			t.Errorf("%d requests at pool max %d (only the preflight may see the original size 10): %v", c, n, proxy.counts)
		}
	}
	r := rep.Recommended
	if noisy {
		t.Logf("the machine was too noisy for a recommendation: %s", r.Reason)
	} else if r.Refused || r.Max < 1 || r.Max > 8 || (r.Method != advisor.MethodUSL && r.Method != advisor.MethodEmpirical) || r.R2 == nil {
		t.Errorf("recommended %+v", r)
	}
	if c := ld.Server.Pool().Config(); c.Max != 10 || c.Min != 1 {
		t.Errorf("pool after the sweep: max %d, min %d; want the original 10, 1", c.Max, c.Min)
	}
	if svg, err := os.ReadFile(chart); err != nil || !bytes.Contains(svg, []byte("polyline")) || !noisy && !bytes.Contains(svg, []byte("recommended max")) {
		t.Errorf("chart: %v", err)
	}
	if back, err := advisor.LoadReport(saved); err != nil || back.Recommended.Max != r.Max || len(back.Steps) != len(rep.Steps) {
		t.Errorf("saved report: %v", err)
	}
}

func TestSizeHTTPCancelledRestoresThePool(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{AdminToken: "secret-token", Env: map[string]string{"DB_POOL_MAX": "12", "DB_POOL_MIN": "3"}})
	bad := func(k string) string { return map[string]string{"POOLPILOT_ADMIN_TOKEN": "wrong-token"}[k] }
	_, errOut, code := runCLI(t, bad, "size", "--http", ld.URL+"/v1/tenants/t1/trial-balance", "--admin-url", ld.URL)
	if code != poolpilot.ExitBadInput || !strings.Contains(errOut, "admin token was refused") || strings.Contains(errOut, "wrong-token") {
		t.Errorf("a wrong token: exit %d, %s", code, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{n: 2, cancel: cancel}
	var out bytes.Buffer
	getenv := func(k string) string { return map[string]string{"POOLPILOT_ADMIN_TOKEN": "secret-token"}[k] }
	err := run(ctx, []string{"size", "--http", ld.URL + "/v1/tenants/t1/trial-balance", "--admin-url", ld.URL,
		"--max", "8", "--duration-per-step", "300ms", "--warmup", "0s", "--json"}, getenv, strings.NewReader(""), &out, stderr)
	if code := poolpilot.ExitCode(err); code != poolpilot.ExitInternal {
		t.Fatalf("exit %d (%v), want 1", code, err)
	}
	var rep advisor.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out.String())
	}
	if !rep.Interrupted || len(rep.Steps) != 2 || !rep.Recommended.Refused {
		t.Errorf("interrupted %v, %d steps, recommended %+v", rep.Interrupted, len(rep.Steps), rep.Recommended)
	}
	if c := ld.Server.Pool().Config(); c.Max != 12 || c.Min != 3 {
		t.Errorf("pool after the cancelled sweep: max %d, min %d; want the original 12, 3", c.Max, c.Min)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "restored to max 12, min 3") {
		t.Errorf("notes %v", rep.Notes)
	}
}

// A service whose requests each hold a pool connection for 20 ms: its
// throughput is set by its pool size (about 50/s per connection), not by
// this busy machine's CPU, so the sweep must find a clean curve and
// recommend from the fit. It speaks only the HTTP contract (health
// document, admin endpoint), as a service in any language would.
func TestSizeHTTPRecommendsOnAPoolBoundService(t *testing.T) {
	db := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": db, "DB_POOL_MAX": "10", "DB_POOL_MIN": "2"}
	cfg, err := pgpool.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgpool.Open(context.Background(), cfg, pgpool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	api := httpapi.New(httpapi.Options{Pool: pool, AdminToken: "tok"})
	mux := http.NewServeMux()
	api.Mount(mux)
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) {
		if _, err := pool.Exec(r.Context(), "select pg_sleep(0.02)"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	getenv := func(k string) string { return map[string]string{"POOLPILOT_ADMIN_TOKEN": "tok"}[k] }
	out, stderr, code := runCLI(t, getenv, "size", "--http", srv.URL+"/work", "--admin-url", srv.URL,
		"--max", "8", "--duration-per-step", "500ms", "--warmup", "100ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var rep advisor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	r := rep.Recommended
	if r.Refused || r.Method != advisor.MethodUSL || r.Max < 6 || rep.Steps[0].Throughput > rep.Steps[len(rep.Steps)-1].Throughput/4 {
		t.Errorf("recommended %+v on steps %+v; want a USL recommendation of 6 or 8 on a near-linear curve", r, rep.Steps)
	}
	if c := pool.Config(); c.Max != 10 || c.Min != 2 {
		t.Errorf("pool after the sweep: max %d, min %d; want 10, 2", c.Max, c.Min)
	}
}
