package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/testutil"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakePool implements poolpilot.Pool for handler logic tests; the real
// pool against a real PostgreSQL is exercised in integration_test.go.
type fakePool struct {
	mu        sync.Mutex
	cfg       poolpilot.PoolConfig
	stats     poolpilot.PoolStats
	budget    *poolpilot.Budget
	pingErr   error
	pings     int
	pingGate  chan struct{} // when non-nil, Ping waits for it (or ctx)
	resizeErr error
	resizes   [][2]int
}

func newFakePool() *fakePool {
	return &fakePool{
		cfg: poolpilot.PoolConfig{Max: 10, Min: 2, IdleTimeout: 30 * time.Second,
			ConnectTimeout: 2 * time.Second, MaxLifetime: time.Hour, HealthCheckPeriod: time.Minute,
			Source: map[string]poolpilot.Provenance{"max": poolpilot.FromEnv, "min": poolpilot.FromDefault}},
		stats: poolpilot.PoolStats{Max: 10, Min: 2, Total: 4, Acquired: 3, Idle: 1,
			Utilization: 0.3, WaitP50MS: 0.5, WaitP95MS: 4, WaitP99MS: 9, Acquires: 100,
			AcquireTimeouts: 1, Opened: 6, Closed: 2, ClosedByReason: map[string]int64{"idle": 2},
			IdleTimeoutMS: 30000, ConnectionTimeoutMS: 2000, WindowSeconds: 60,
			Source: map[string]poolpilot.Provenance{"max": poolpilot.FromEnv, "min": poolpilot.FromDefault}},
	}
}

func (p *fakePool) Config() poolpilot.PoolConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

func (p *fakePool) Stats() poolpilot.PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *fakePool) Budget() *poolpilot.Budget {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.budget
}

func (p *fakePool) Ping(ctx context.Context) error {
	p.mu.Lock()
	p.pings++
	gate, err := p.pingGate, p.pingErr
	p.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

func (p *fakePool) Resize(ctx context.Context, max, min int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resizes = append(p.resizes, [2]int{max, min})
	if p.resizeErr != nil {
		return p.resizeErr
	}
	p.cfg.Max, p.cfg.Min = max, min
	p.cfg.Source = map[string]poolpilot.Provenance{"max": poolpilot.FromAdmin, "min": poolpilot.FromAdmin}
	return nil
}

func (p *fakePool) pingCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pings
}

type testEnv struct {
	srv   *Server
	pool  *fakePool
	clock *fakeClock
	logs  *testutil.Buffer
}

const testToken = "tok-3f9a1c77e2b54d0c"

func newTestEnv(t *testing.T, mutate func(*Options)) *testEnv {
	t.Helper()
	e := &testEnv{pool: newFakePool(), clock: newFakeClock(), logs: &testutil.Buffer{}}
	opts := Options{Pool: e.pool, Service: "testsvc", AdminToken: testToken, Clock: e.clock,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if mutate != nil {
		mutate(&opts)
	}
	e.srv = New(opts)
	return e
}

// do serves one request through the server's Handler.
func (e *testEnv) do(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	return serve(e.srv.Handler(), method, path, body, hdr...)
}

func serve(h http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
