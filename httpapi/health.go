package httpapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
)

// Health statuses.
const (
	StatusOK          = "ok"
	StatusUnavailable = "unavailable"
)

// pingCache runs at most one database ping at a time and reuses its result
// for ttl, so that /healthz costs at most one ping a second. Like /metrics'
// cache it refreshes early: a result older than ttl/2 is still served, and
// the first such request starts a ping in the background, so that steady
// probing never waits for the database; a result older than ttl is never
// served.
type pingCache struct {
	ttl time.Duration

	mu       sync.Mutex
	at       time.Time // when the cached result was taken; zero: none
	err      error
	inflight chan struct{} // closed when the running ping ends; nil: none
}

// wait waits for the ping in flight, if any (bounded by PingTimeout).
func (c *pingCache) wait(ctx context.Context) error {
	c.mu.Lock()
	w := c.inflight
	c.mu.Unlock()
	if w == nil {
		return nil
	}
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// check returns the fresh cached result, or waits for the ping in flight,
// or starts one. The ping runs detached from ctx (a client that hangs up
// must not poison the cache) with its own timeout; ctx only bounds the wait.
func (s *Server) check(ctx context.Context) error {
	c := &s.ping
	c.mu.Lock()
	now := s.clock.Now()
	if !c.at.IsZero() && now.Sub(c.at) < c.ttl && !now.Before(c.at) {
		err := c.err
		if now.Sub(c.at) >= c.ttl/2 && c.inflight == nil {
			s.startPingLocked(ctx)
		}
		c.mu.Unlock()
		return err
	}
	wait := c.inflight
	if wait == nil {
		wait = s.startPingLocked(ctx)
	}
	c.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// startPingLocked starts a ping; the caller holds s.ping.mu.
func (s *Server) startPingLocked(ctx context.Context) chan struct{} {
	c := &s.ping
	wait := make(chan struct{})
	c.inflight = wait
	go s.runPing(context.WithoutCancel(ctx), wait)
	return wait
}

func (s *Server) runPing(ctx context.Context, done chan struct{}) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.PingTimeout)
	defer cancel()
	var err error
	if s.opts.Pool == nil {
		err = errors.New("no pool configured")
	} else {
		err = s.opts.Pool.Ping(ctx)
	}
	c := &s.ping
	c.mu.Lock()
	c.at, c.err, c.inflight = s.clock.Now(), err, nil
	c.mu.Unlock()
	close(done)
}

// health builds the /healthz document and its status code.
func (s *Server) health(ctx context.Context) (poolpilot.Health, int) {
	h := poolpilot.Health{Schema: poolpilot.HealthSchema, Status: StatusOK, Service: s.opts.Service, Time: s.clock.Now().UTC()}
	code := http.StatusOK
	if err := s.check(ctx); err != nil {
		h.Status, code = StatusUnavailable, http.StatusServiceUnavailable
		h.Error = s.redact("database unreachable: " + err.Error())
	}
	if s.opts.Pool != nil {
		h.Pool = s.opts.Pool.Stats()
		h.Budget = s.opts.Pool.Budget()
	}
	rs := s.RequestStats()
	h.Requests = &rs
	return h, code
}

// serveHealth answers GET and HEAD /healthz.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, http.MethodGet, http.MethodHead)
		return
	}
	h, code := s.health(r.Context())
	if code != http.StatusOK {
		s.log.Warn("healthz: database unreachable", "service", s.opts.Service, "err", h.Error)
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		return
	}
	writeJSON(w, code, h)
}
