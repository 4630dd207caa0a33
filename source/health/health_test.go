package health

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/httpapi"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func byMetric(ss []poolpilot.Sample) map[string]poolpilot.Sample {
	out := map[string]poolpilot.Sample{}
	for _, s := range ss {
		out[s.Metric] = s
	}
	return out
}

func collect(t *testing.T, s *Source) map[string]poolpilot.Sample {
	t.Helper()
	ss, err := s.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != len(metrics) {
		t.Fatalf("%d samples, want %d", len(ss), len(metrics))
	}
	return byMetric(ss)
}

// TestRealHealthz polls the /healthz of the real HTTP surface over a real
// pool on a real PostgreSQL.
func TestRealHealthz(t *testing.T) {
	ctx := context.Background()
	cfg := pgpool.Config{PoolConfig: poolpilot.PoolConfig{Max: 7, Min: 2, IdleTimeout: 30 * time.Second, ConnectTimeout: 2 * time.Second, MaxLifetime: time.Hour, HealthCheckPeriod: time.Minute}, DatabaseURL: pgtest.NewDatabase(t)}
	pool, err := pgpool.Open(ctx, cfg, pgpool.Options{AppName: "health-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	api := httpapi.New(httpapi.Options{Pool: pool, Service: "test"})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	src, err := New([]string{srv.URL + "/healthz"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, src)
	inst := strings.TrimPrefix(srv.URL, "http://")
	if s := got["pool.max"]; s.Gap || s.Value != 7 || s.Instance != inst || s.Source != "health" {
		t.Fatalf("pool.max sample %+v", s)
	}
	if got["pool.min"].Value != 2 || got["reachable"].Value != 1 || got["downtime_s"].Value != 0 {
		t.Fatalf("samples %+v", got)
	}
	if s := got["error_rate"]; s.Gap || s.Value != 0 {
		t.Fatalf("error_rate %+v", s)
	}
	if s := got["thrashing"]; !s.Gap {
		t.Fatalf("thrashing on the first poll must be a gap (rates need two polls): %+v", s)
	}
	for i := 0; i < 20; i++ {
		if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
	}
	got = collect(t, src)
	for _, m := range []string{"thrashing", "pool.opened_per_s", "pool.acquire_timeouts"} {
		if got[m].Gap {
			t.Fatalf("%s is a gap on the second poll: %+v", m, got[m])
		}
	}
}

func TestFailedPollIsAGapAndDowntimeGrows(t *testing.T) {
	var mu sync.Mutex
	body, code := `{"status":"ok","pool":{"max":10,"min":2,"utilization":0.5,"opened":5,"acquires":100},"requests":{"total":60,"errors":1,"error_rate":0.0166,"latency_p95_ms":12,"window_seconds":60}}`, 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(code)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	set := func(b string, c int) { mu.Lock(); body, code = b, c; mu.Unlock() }
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	src, err := New([]string{srv.URL + "/healthz"}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, src)
	if got["error_rate"].Value != 0.0166 || got["requests"].Value != 1 || got["pool.utilization"].Value != 0.5 {
		t.Fatalf("samples %+v", got)
	}
	for i, bad := range []struct {
		body string
		code int
	}{
		{"<html>502 Bad Gateway</html>", 502},
		{"<html>oops</html>", 200},
		{`{"error":"boom"}`, 200},
		{`{"status":"ok","pool":{"max":0}}`, 200},
		{`{"status":"ok","pool":{"max":10}} trailing`, 200},
	} {
		clk.Advance(time.Second)
		set(bad.body, bad.code)
		got = collect(t, src)
		if got["reachable"].Value != 0 || got["downtime_s"].Value != float64(i+1) || got["downtime_s"].Gap {
			t.Fatalf("%q: reachable %+v downtime %+v", bad.body, got["reachable"], got["downtime_s"])
		}
		for _, m := range []string{"error_rate", "pool.max", "thrashing"} {
			if !got[m].Gap || got[m].Reason == "" {
				t.Fatalf("%q: %s is not a gap: %+v", bad.body, m, got[m])
			}
		}
	}
	// The service answers 503 "unavailable" (its database is down): the
	// document is data, the instance is not up.
	clk.Advance(time.Second)
	set(`{"status":"unavailable","error":"database unreachable","pool":{"max":10,"min":2}}`, 503)
	got = collect(t, src)
	if got["reachable"].Value != 0 || got["downtime_s"].Value != 6 || got["pool.max"].Value != 10 || !got["error_rate"].Gap {
		t.Fatalf("unavailable: %+v", got)
	}
	clk.Advance(time.Second)
	set(`{"status":"ok","pool":{"max":10,"min":2}}`, 200)
	if got = collect(t, src); got["reachable"].Value != 1 || got["downtime_s"].Value != 0 {
		t.Fatalf("back up: %+v", got)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	src, err := New([]string{"http://" + addr + "/healthz"}, Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, src)
	if got["reachable"].Value != 0 || !got["pool.max"].Gap || !strings.Contains(got["pool.max"].Reason, "poll failed") {
		t.Fatalf("samples %+v", got)
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, urls := range [][]string{nil, {"localhost:8080"}, {"ftp://x/healthz"}, {"http://u:secret@x/healthz"}, {"http://x/healthz", "http://x/healthz"}} {
		_, err := New(urls, Options{})
		if err == nil {
			t.Errorf("%v: no error", urls)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
	s, err := New([]string{"http://x:1/healthz", "http://x:1/other"}, Options{})
	if err != nil || s.Instances()[0] != "x:1" || s.Instances()[1] != "http://x:1/other" {
		t.Fatalf("instances %v %v", s.Instances(), err)
	}
}

func TestThrashing(t *testing.T) {
	th := DefaultThrash
	for _, c := range []struct {
		r    Rates
		want bool
	}{
		{Rates{Opens: 0, Acquires: 500}, false},
		{Rates{Opens: 0.5, Acquires: 1}, false},                  // below 1/s
		{Rates{Opens: 5, Acquires: 500}, false},                  // 1 per 100 acquires: reuse works
		{Rates{Opens: 5, Acquires: 20}, true},                    // 1 per 4 acquires
		{Rates{Opens: 2, Acquires: 0}, true},                     // dialling with no use
		{Rates{Opens: 0.8, Recycles: 0.7, Acquires: 1000}, true}, // lockstep
		{Rates{Opens: 0.8, Recycles: 0.2, Acquires: 1000}, false},
		{Rates{Opens: 0.3, Recycles: 0.3, Acquires: 1000}, false},
	} {
		if got := th.Thrashing(c.r); got != c.want {
			t.Errorf("%+v: %v, want %v", c.r, got, c.want)
		}
	}
}

func TestRatesFromCounters(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	stats := poolpilot.PoolStats{Max: 10}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(poolpilot.Health{Status: "ok", Pool: stats})
	}))
	defer srv.Close()
	src, _ := New([]string{srv.URL}, Options{Clock: clk})
	collect(t, src)
	mu.Lock()
	stats.Opened, stats.Acquires, stats.AcquireTimeouts, stats.ServerRefusals = 20, 40, 4, 2
	stats.ClosedByReason = map[string]int64{"idle": 6, "max_lifetime": 4, "broken": 10}
	stats.Closed = 20
	mu.Unlock()
	clk.Advance(2 * time.Second)
	got := collect(t, src)
	if got["pool.opened_per_s"].Value != 10 || got["pool.acquire_timeouts"].Value != 2 || got["pool.server_refusals"].Value != 1 || got["pool.closed_per_s"].Value != 10 || got["thrashing"].Value != 1 {
		t.Fatalf("rates %+v", got)
	}
	// A restart resets the counters: the rate counts from zero.
	mu.Lock()
	stats = poolpilot.PoolStats{Max: 10, Opened: 1, Acquires: 1000}
	mu.Unlock()
	clk.Advance(time.Second)
	if got = collect(t, src); got["pool.opened_per_s"].Value != 1 || got["thrashing"].Value != 0 {
		t.Fatalf("after reset %+v", got)
	}
}

func FuzzParseHealth(f *testing.F) {
	f.Add([]byte(`{"status":"ok","pool":{"max":200,"min":20,"utilization":0.4},"requests":{"total":1,"error_rate":0}}`))
	f.Add([]byte(`{"status":"unavailable","pool":{"max":1}}`))
	f.Add([]byte(`{"status":"ok","pool":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHealth(b)
		if err != nil {
			return
		}
		if h.Status != "ok" && h.Status != "unavailable" || h.Pool.Max < 1 || h.Pool.Min > h.Pool.Max || h.Pool.Utilization < 0 {
			t.Fatalf("accepted an invalid document: %+v", h)
		}
		if h.Requests != nil && (h.Requests.ErrorRate < 0 || h.Requests.ErrorRate > 1) {
			t.Fatalf("accepted error rate %v", h.Requests.ErrorRate)
		}
	})
}
