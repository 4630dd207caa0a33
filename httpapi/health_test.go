package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
)

func decodeHealth(t *testing.T, body string) poolpilot.Health {
	t.Helper()
	var h poolpilot.Health
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		t.Fatalf("healthz body is not a poolpilot.Health: %v\n%s", err, body)
	}
	return h
}

func TestHealthOK(t *testing.T) {
	e := newTestEnv(t, nil)
	e.pool.budget = &poolpilot.Budget{MaxConnections: 100, Available: 97, PoolMax: 10, OK: true}
	// Two requests through the middleware, one of them a 500.
	app := e.srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	serve(app, "GET", "/ok", "")
	serve(app, "GET", "/fail", "")

	w := e.do("GET", "/healthz", "")
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	h := decodeHealth(t, w.Body.String())
	if h.Status != "ok" || h.Error != "" || h.Service != "testsvc" {
		t.Errorf("status/error/service = %q/%q/%q", h.Status, h.Error, h.Service)
	}
	if !h.Time.Equal(e.clock.Now()) {
		t.Errorf("time = %v, want the injected clock's %v", h.Time, e.clock.Now())
	}
	if h.Pool.Max != 10 || h.Pool.Acquired != 3 || h.Pool.WaitP95MS != 4 || h.Pool.Source["max"] != poolpilot.FromEnv {
		t.Errorf("pool = %+v, want the pool's Stats()", h.Pool)
	}
	if h.Budget == nil || h.Budget.MaxConnections != 100 || !h.Budget.OK {
		t.Errorf("budget = %+v, want the pool's Budget()", h.Budget)
	}
	if h.Requests == nil || h.Requests.Total != 2 || h.Requests.Errors != 1 || h.Requests.ErrorRate != 0.5 {
		t.Errorf("requests = %+v, want total 2, errors 1, rate 0.5", h.Requests)
	}
	// The raw JSON carries the documented keys.
	for _, k := range []string{`"status": "ok"`, `"wait_p95_ms"`, `"latency_p99_ms"`, `"error_rate"`, `"utilization"`, `"source"`} {
		if !strings.Contains(w.Body.String(), k) {
			t.Errorf("body lacks %s", k)
		}
	}
}

func TestHealthNoBudgetOmitted(t *testing.T) {
	e := newTestEnv(t, nil)
	w := e.do("GET", "/healthz", "")
	if strings.Contains(w.Body.String(), `"budget"`) {
		t.Errorf("budget present although Budget() is nil:\n%s", w.Body)
	}
}

func TestHealthUnavailable(t *testing.T) {
	e := newTestEnv(t, nil)
	e.pool.pingErr = errors.New(`failed to connect to postgres://app:hunter2-pw@db:5432/ledger: connection refused`)
	w := e.do("GET", "/healthz", "")
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", w.Code)
	}
	h := decodeHealth(t, w.Body.String())
	if h.Status != "unavailable" || !strings.Contains(h.Error, "connection refused") {
		t.Errorf("status/error = %q/%q", h.Status, h.Error)
	}
	if strings.Contains(w.Body.String(), "hunter2-pw") || strings.Contains(e.logs.String(), "hunter2-pw") {
		t.Errorf("password leaked:\nbody %s\nlogs %s", w.Body, e.logs)
	}
	if h.Pool.Max != 10 {
		t.Errorf("pool stats missing from a 503: %+v", h.Pool)
	}
}

func TestHealthHeadAndMethods(t *testing.T) {
	e := newTestEnv(t, nil)
	w := e.do("HEAD", "/healthz", "")
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("HEAD: status %d body %q, want 200 and no body", w.Code, w.Body)
	}
	e.pool.pingErr = errors.New("down")
	e.clock.Advance(2 * time.Second) // past the ping cache
	if w = e.do("HEAD", "/healthz", ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("HEAD while down: status %d, want 503", w.Code)
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		w := e.do(m, "/healthz", "{}")
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d Allow %q, want 405 and GET, HEAD", m, w.Code, w.Header().Get("Allow"))
		}
	}
}

func TestHealthPingCached(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if w := e.do("GET", "/healthz", ""); w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
	}
	if n := e.pool.pingCount(); n != 1 {
		t.Fatalf("pings = %d after 50 calls within 1s, want 1", n)
	}
	e.clock.Advance(499 * time.Millisecond)
	e.do("GET", "/healthz", "")
	if err := e.srv.ping.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.pool.pingCount(); n != 1 {
		t.Fatalf("pings = %d at +499ms (under half the TTL), want 1", n)
	}

	// Past half the TTL: the cached result is served at once and one ping
	// starts in the background; its result is what the next call sees.
	e.pool.mu.Lock()
	e.pool.pingErr = errors.New("down")
	e.pool.mu.Unlock()
	e.clock.Advance(time.Millisecond)
	if w := e.do("GET", "/healthz", ""); w.Code != http.StatusOK {
		t.Fatalf("status %d at +500ms, want the cached 200 (served without waiting)", w.Code)
	}
	if err := e.srv.ping.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.pool.pingCount(); n != 2 {
		t.Fatalf("pings = %d after the early refresh, want 2", n)
	}
	if w := e.do("GET", "/healthz", ""); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d after the refresh saw the database down, want 503", w.Code)
	}

	// A result older than the TTL is never served: the call waits for a ping.
	e.pool.mu.Lock()
	e.pool.pingErr = nil
	e.pool.mu.Unlock()
	e.clock.Advance(time.Second)
	if w := e.do("GET", "/healthz", ""); w.Code != http.StatusOK {
		t.Fatalf("status %d a TTL after the last ping, database back, want 200 (not the stale 503)", w.Code)
	}
	if n := e.pool.pingCount(); n != 3 {
		t.Fatalf("pings = %d, want 3", n)
	}
}

func TestHealthConcurrentCallsShareOnePing(t *testing.T) {
	e := newTestEnv(t, nil)
	gate := make(chan struct{})
	e.pool.pingGate = gate
	h := e.srv.Handler()
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = serve(h, "GET", "/healthz", "").Code
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.pool.pingCount() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // poll for the ping to start
	}
	close(gate)
	wg.Wait()
	if n := e.pool.pingCount(); n != 1 {
		t.Errorf("pings = %d for 20 concurrent calls, want 1", n)
	}
	for i, c := range codes {
		if c != 200 {
			t.Errorf("call %d: status %d", i, c)
		}
	}
}

func TestHealthPingTimeout(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.PingTimeout = 20 * time.Millisecond })
	e.pool.pingGate = make(chan struct{}) // never opens: a hung database
	start := time.Now()
	w := e.do("GET", "/healthz", "")
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", w.Code)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v, want about the 20ms ping timeout", el)
	}
	if !strings.Contains(w.Body.String(), "deadline exceeded") {
		t.Errorf("error does not say the ping timed out: %s", w.Body)
	}
}

func TestHealthClientGoneDoesNotPoisonCache(t *testing.T) {
	e := newTestEnv(t, nil)
	gate := make(chan struct{})
	e.pool.pingGate = gate
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.srv.check(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("check with a cancelled ctx = %v, want context.Canceled", err)
	}
	close(gate)
	if err := e.srv.check(context.Background()); err != nil {
		t.Fatalf("check after the client left = %v, want the ping's own result (nil)", err)
	}
}
