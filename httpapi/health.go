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
// for ttl, so that /healthz costs at most one ping a second.
type pingCache struct {
	ttl time.Duration

	mu       sync.Mutex
	at       time.Time // when the cached result was taken; zero: none
	err      error
	inflight chan struct{} // closed when the running ping ends; nil: none
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
		c.mu.Unlock()
		return err
	}
	wait := c.inflight
	if wait == nil {
		wait = make(chan struct{})
		c.inflight = wait
		go s.runPing(context.WithoutCancel(ctx), wait)
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
	h := poolpilot.Health{Status: StatusOK, Service: s.opts.Service, Time: s.clock.Now().UTC()}
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
