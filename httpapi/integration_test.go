package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/testutil"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

// The password put into every DATABASE_URL below; pgtest's clusters use
// trust authentication, so any password connects.
const dbPassword = "Pw-n3ver-Sh0wn-7c1e"

func withPassword(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), dbPassword)
	return u.String()
}

// realStack is a real pgpool on a real PostgreSQL behind a real HTTP server.
type realStack struct {
	pool  *pgpool.Pool
	srv   *Server
	http  *httptest.Server
	logs  *testutil.Buffer
	clock *fakeClock
}

func openRealPool(t *testing.T, dbURL string, env map[string]string, logs *testutil.Buffer) *pgpool.Pool {
	t.Helper()
	env["DATABASE_URL"] = dbURL
	cfg, err := pgpool.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := pgpool.Open(ctx, cfg, pgpool.Options{AppName: "httpapi-test",
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatalf("pgpool.Open: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func newRealStack(t *testing.T, dbURL string, env map[string]string) *realStack {
	t.Helper()
	st := &realStack{logs: &testutil.Buffer{}, clock: newFakeClock()}
	st.pool = openRealPool(t, dbURL, env, st.logs)
	st.srv = New(Options{Pool: st.pool, Service: "itest", AdminToken: testToken, Clock: st.clock,
		Secrets: URLSecrets(dbURL), Logger: slog.New(slog.NewTextHandler(st.logs, nil))})
	mux := http.NewServeMux()
	st.srv.Mount(mux)
	mux.HandleFunc("/v1/one", func(w http.ResponseWriter, r *http.Request) {
		var n int
		if err := st.pool.QueryRow(r.Context(), "SELECT 1").Scan(&n); err != nil {
			http.Error(w, "query failed", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "1")
	})
	st.http = httptest.NewServer(st.srv.Middleware(mux))
	t.Cleanup(st.http.Close)
	return st
}

// call makes a real HTTP request and returns status, body and duration.
func (st *realStack) call(t *testing.T, method, path, body string, hdr ...string) (int, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, st.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	start := time.Now()
	resp, err := st.http.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

func TestIntegrationRealPool(t *testing.T) {
	dbURL := withPassword(t, pgtest.NewDatabase(t))
	st := newRealStack(t, dbURL, map[string]string{"DB_POOL_MAX": "4", "DB_POOL_MIN": "1"})
	for i := 0; i < 20; i++ {
		if code, body, _ := st.call(t, "GET", "/v1/one", ""); code != 200 {
			t.Fatalf("GET /v1/one: %d %s", code, body)
		}
	}
	code, body, _ := st.call(t, "GET", "/healthz", "")
	if code != 200 {
		t.Fatalf("GET /healthz: %d %s", code, body)
	}
	var h poolpilot.Health
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatal(err)
	}
	if h.Status != "ok" || h.Pool.Max != 4 || h.Pool.Min != 1 || h.Pool.Source["max"] != poolpilot.FromEnv {
		t.Errorf("healthz pool = %+v, want max 4 min 1 from env", h.Pool)
	}
	if h.Requests == nil || h.Requests.Total != 20 || h.Requests.Errors != 0 {
		t.Errorf("healthz requests = %+v, want 20 requests, 0 errors", h.Requests)
	}
	if h.Pool.Acquires < 20 {
		t.Errorf("pool acquires = %d after 20 queries, want ≥ 20", h.Pool.Acquires)
	}

	code, metrics, _ := st.call(t, "GET", "/metrics", "")
	if code != 200 || !strings.Contains(metrics, "poolpilot_pool_max_connections 4\n") {
		t.Errorf("GET /metrics: %d, want max 4 in:\n%s", code, metrics)
	}
	for _, want := range []string{`poolpilot_pool_acquire_wait_seconds_bucket{le="+Inf"} `, "poolpilot_pool_acquires_total ",
		"poolpilot_pool_budget_ok 1\n", `http_requests_total{code="200",method="GET"} 20` + "\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("real pool metrics lack %q", want)
		}
	}
	if out, err := promtoolCheck(t, []byte(metrics)); out != "" || err != nil {
		t.Errorf("promtool check metrics on the real pool: %v\n%s", err, out)
	}

	code, body, _ = st.call(t, "PUT", "/admin/pool", `{"max":6,"min":2}`, withToken...)
	if code != 200 {
		t.Fatalf("PUT /admin/pool: %d %s", code, body)
	}
	var cfg ConfigJSON
	if err := json.Unmarshal([]byte(body), &cfg); err != nil || cfg.Max != 6 || cfg.Min != 2 {
		t.Errorf("resize answer = %+v (%v), want max 6 min 2", cfg, err)
	}
	st.clock.Advance(2 * time.Second)
	_, body, _ = st.call(t, "GET", "/healthz", "")
	if err := json.Unmarshal([]byte(body), &h); err != nil || h.Pool.Max != 6 || h.Pool.Min != 2 {
		t.Errorf("healthz after resize: pool max/min = %d/%d (%v), want 6/2", h.Pool.Max, h.Pool.Min, err)
	}
	assertNoPassword(t, st, body, metrics)

	// A resize of a closed pool conflicts with its state: 409.
	st.pool.Close()
	if code, body, _ = st.call(t, "PUT", "/admin/pool", `{"max":3}`, withToken...); code != http.StatusConflict {
		t.Errorf("resize of a closed pool: %d, want 409: %s", code, body)
	}
}

func assertNoPassword(t *testing.T, st *realStack, texts ...string) {
	t.Helper()
	for _, s := range append(texts, st.logs.String()) {
		if strings.Contains(s, dbPassword) || strings.Contains(s, testToken) {
			t.Errorf("a secret leaked into:\n%s", s)
		}
	}
}

// TestIntegrationHealthzWhileSaturated holds every connection of a real
// pool (and has one caller queued behind them); /healthz must still answer
// at once, because the pool's Ping must not wait for a pool connection.
func TestIntegrationHealthzWhileSaturated(t *testing.T) {
	dbURL := withPassword(t, pgtest.NewDatabase(t))
	st := newRealStack(t, dbURL, map[string]string{"DB_POOL_MAX": "2", "DB_POOL_MIN": "0"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < 2; i++ {
		tx, err := st.pool.Begin(ctx)
		if err != nil {
			t.Fatalf("Begin: %v", err)
		}
		defer func() { _ = tx.Rollback(context.Background()) }()
	}
	queued := make(chan error, 1)
	go func() {
		_, err := st.pool.Exec(ctx, "SELECT 1") // waits behind the full pool
		queued <- err
	}()
	deadline := time.Now().Add(3 * time.Second)
	for st.pool.Stats().Waiting < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // poll until the caller is queued
	}
	// The first ping at saturation may dial the pool's monitor connection;
	// it must still not queue (a queued ping would give 503 after the 1s
	// ping timeout).
	code, body, took := st.call(t, "GET", "/healthz", "")
	t.Logf("first GET /healthz, %d waiting, every connection held: %d in %v", st.pool.Stats().Waiting, code, took)
	if code != 200 || took > 500*time.Millisecond {
		t.Errorf("first GET /healthz on a saturated pool: status %d in %v, want 200 in < 500ms: %s", code, took, body)
	}
	// Then every uncached call (a real ping each) answers in < 50ms; the
	// median of five keeps one scheduling hiccup of a loaded machine out.
	var times []time.Duration
	for i := 0; i < 5; i++ {
		st.clock.Advance(2 * time.Second) // past the ping cache
		code, body, took = st.call(t, "GET", "/healthz", "")
		if code != 200 {
			t.Fatalf("GET /healthz on a saturated pool: status %d: %s", code, body)
		}
		times = append(times, took)
	}
	slices.Sort(times)
	t.Logf("uncached GET /healthz at saturation: %v", times)
	if times[2] > 50*time.Millisecond {
		t.Errorf("median uncached GET /healthz on a saturated pool took %v, want < 50ms (all: %v)", times[2], times)
	}
	var h poolpilot.Health
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatal(err)
	}
	if h.Pool.Acquired != 2 || h.Pool.Utilization != 1 || h.Pool.Waiting < 1 {
		t.Errorf("saturated pool shows acquired %d utilization %v waiting %d, want 2, 1, ≥1",
			h.Pool.Acquired, h.Pool.Utilization, h.Pool.Waiting)
	}
	cancel()
	<-queued
}

// TestIntegrationDatabaseDownNoLeak stops a private cluster under a real
// pool: /healthz turns 503 with a redacted error, and no endpoint or log
// line ever shows the DATABASE_URL password.
func TestIntegrationDatabaseDownNoLeak(t *testing.T) {
	pg := pgtest.New(t, pgtest.Options{})
	dbURL := withPassword(t, pg.URL("postgres"))
	st := newRealStack(t, dbURL, map[string]string{"DB_POOL_MAX": "3", "DB_POOL_MIN": "1",
		"DB_POOL_CONNECTION_TIMEOUT": "500"})
	if code, body, _ := st.call(t, "GET", "/healthz", ""); code != 200 {
		t.Fatalf("healthz before the stop: %d %s", code, body)
	}
	if err := pg.Stop(); err != nil {
		t.Fatalf("stop PostgreSQL: %v", err)
	}
	st.clock.Advance(2 * time.Second) // past the ping cache
	code, health, took := st.call(t, "GET", "/healthz", "")
	if code != http.StatusServiceUnavailable {
		t.Errorf("healthz with the database down: %d, want 503: %s", code, health)
	}
	if took > 3*time.Second {
		t.Errorf("healthz took %v with the database down, want about the 1s ping timeout", took)
	}
	var h poolpilot.Health
	if err := json.Unmarshal([]byte(health), &h); err != nil || h.Status != "unavailable" || h.Error == "" {
		t.Errorf("healthz = %+v (%v), want status unavailable with an error", h, err)
	}
	_, failing, _ := st.call(t, "GET", "/v1/one", "")
	_, metrics, _ := st.call(t, "GET", "/metrics", "")
	_, admin, _ := st.call(t, "PUT", "/admin/pool", `{"max":5,"min":1}`, withToken...)
	_, bad, _ := st.call(t, "PUT", "/admin/pool", `{"max":5,"min":9}`, withToken...)
	_, unauth, _ := st.call(t, "PUT", "/admin/pool", `{"max":5}`, "Authorization", "Bearer "+dbPassword)
	assertNoPassword(t, st, health, failing, metrics, admin, bad, unauth)
	if !strings.Contains(st.logs.String(), "database unreachable") {
		t.Errorf("the outage was not logged:\n%s", st.logs)
	}
}
