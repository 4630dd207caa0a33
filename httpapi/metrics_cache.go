package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/poolpilot/poolpilot"
)

// Bounds of the per-snapshot response cache: a client cannot make the
// server keep more than maxVariants encodings, nor keys (its Accept,
// Accept-Encoding and name[] values) longer than maxVariantKey bytes. Other
// requests are encoded from the snapshot on every call (still no gather).
const (
	maxVariants   = 16
	maxVariantKey = 512
)

// metricsCache serves /metrics from one gather of the registry for at most
// ttl. One gather of the default registry costs about a millisecond of CPU
// (/proc reads of the process collector, the pool's statistics window,
// encoding, gzip: see BenchmarkMetricsScrape); a flood of scrapes or probes
// would otherwise queue for CPU.
//
// Policy (stale-while-revalidate with a hard bound):
//   - output at most ttl/2 old is served as is;
//   - output older than ttl/2 and at most ttl old is served as is, and the
//     first such request starts one background gather;
//   - output older than ttl (or none yet) is never served: the request
//     waits for the gather in flight, or starts one; concurrent requests
//     share it.
//
// So served metrics are never older than ttl, at most one gather runs at a
// time, and under a steady stream of scrapes (more than one per ttl/2) no
// request waits for a gather. A scrape after an idle spell costs one gather,
// as without the cache.
type metricsCache struct {
	gatherer prometheus.Gatherer
	opts     promhttp.HandlerOpts
	clock    poolpilot.Clock
	ttl      time.Duration

	mu      sync.Mutex
	snap    *metricsSnapshot
	running chan struct{} // closed when the gather in flight is published; nil: none
	closed  bool

	waiting atomic.Int64 // requests waiting for a gather now (tests)
}

// metricsSnapshot is one gather and the responses encoded from it, one per
// variant (negotiated format, compression and name[] filter) asked for.
type metricsSnapshot struct {
	at     time.Time    // taken before the gather started: a conservative age
	render http.Handler // promhttp over this gather only

	mu       sync.RWMutex
	variants map[string]*cachedResponse
}

// cachedResponse is one recorded promhttp answer.
type cachedResponse struct {
	req    *http.Request // minimal request that renders it again from the next snapshot
	status int
	header http.Header
	body   []byte
	hits   atomic.Int64
}

func newMetricsCache(g prometheus.Gatherer, opts promhttp.HandlerOpts, clock poolpilot.Clock, ttl time.Duration) *metricsCache {
	return &metricsCache{gatherer: g, opts: opts, clock: clock, ttl: ttl}
}

// serve answers from a snapshot at most ttl old. ok is false when the
// cache is closed and the caller must serve uncached.
func (c *metricsCache) serve(w http.ResponseWriter, r *http.Request) (ok bool) {
	snap, err := c.current(r.Context())
	if errors.Is(err, errCacheClosed) {
		return false
	}
	if err != nil {
		http.Error(w, "metrics: the request ended before the metrics were gathered: "+err.Error(), http.StatusServiceUnavailable)
		return true
	}
	snap.response(r).writeTo(w)
	return true
}

var errCacheClosed = errors.New("metrics cache closed")

// current returns a snapshot at most ttl old, starting a background gather
// when the snapshot is past ttl/2 and waiting for one when it is past ttl.
func (c *metricsCache) current(ctx context.Context) (*metricsSnapshot, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errCacheClosed
	}
	if s := c.snap; s != nil {
		age := c.clock.Now().Sub(s.at)
		if age >= 0 && age <= c.ttl {
			if age > c.ttl/2 {
				c.startLocked()
			}
			c.mu.Unlock()
			return s, nil
		}
	}
	done := c.startLocked()
	c.mu.Unlock()
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap, nil
}

// startLocked starts a gather unless one is in flight and returns the
// channel closed when its snapshot is published. c.mu must be held.
func (c *metricsCache) startLocked() chan struct{} {
	if c.running != nil {
		return c.running
	}
	done := make(chan struct{})
	c.running = done
	prev := c.snap
	go func() {
		defer close(done)
		c.publish(c.refresh(prev))
	}()
	return done
}

// refresh gathers once and encodes again every variant that was served
// from prev, so that requests after the switch find their bytes ready.
func (c *metricsCache) refresh(prev *metricsSnapshot) *metricsSnapshot {
	at := c.clock.Now()
	mfs, err := c.gather()
	s := newMetricsSnapshot(at, mfs, err, c.opts)
	if prev != nil {
		prev.mu.RLock()
		reqs := make(map[string]*http.Request, len(prev.variants))
		for key, v := range prev.variants {
			if v.hits.Load() > 0 {
				reqs[key] = v.req
			}
		}
		prev.mu.RUnlock()
		s.mu.Lock()
		for key, req := range reqs {
			s.variants[key] = s.record(req)
		}
		s.mu.Unlock()
	}
	return s
}

// gather calls the gatherer; a panic (Registry.Gather already recovers
// collector panics) becomes an error so the background goroutine cannot
// take the process down.
func (c *metricsCache) gather() (mfs []*dto.MetricFamily, err error) {
	defer func() {
		if p := recover(); p != nil {
			mfs, err = nil, fmt.Errorf("gather panicked: %v", p)
		}
	}()
	return c.gatherer.Gather()
}

func (c *metricsCache) publish(s *metricsSnapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snap, c.running = s, nil
}

// close stops background gathers (requests are then served uncached) and
// waits for the one in flight, or for ctx.
func (c *metricsCache) close(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	running := c.running
	c.mu.Unlock()
	if running == nil {
		return nil
	}
	select {
	case <-running:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("metrics gather still running: %w", ctx.Err())
	}
}

// settle waits until no gather is in flight (tests).
func (c *metricsCache) settle() {
	c.mu.Lock()
	running := c.running
	c.mu.Unlock()
	if running != nil {
		<-running
	}
}

func newMetricsSnapshot(at time.Time, mfs []*dto.MetricFamily, err error, opts promhttp.HandlerOpts) *metricsSnapshot {
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, err })
	return &metricsSnapshot{at: at, render: promhttp.HandlerFor(g, opts), variants: map[string]*cachedResponse{}}
}

// response returns the encoded answer to r, from the variant cache when it
// can.
func (s *metricsSnapshot) response(r *http.Request) *cachedResponse {
	key := variantKey(r)
	s.mu.RLock()
	v := s.variants[key]
	s.mu.RUnlock()
	if v == nil {
		if len(key) > maxVariantKey {
			return s.record(variantRequest(r))
		}
		s.mu.Lock()
		if v = s.variants[key]; v == nil {
			v = s.record(variantRequest(r))
			if len(s.variants) < maxVariants {
				s.variants[key] = v
			}
		}
		s.mu.Unlock()
	}
	v.hits.Add(1)
	return v
}

// record runs promhttp on req and keeps its answer.
func (s *metricsSnapshot) record(req *http.Request) *cachedResponse {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	s.render.ServeHTTP(rec, req)
	return &cachedResponse{req: req, status: rec.status, header: rec.header, body: rec.buf.Bytes()}
}

// variantKey is what promhttp's answer depends on: Accept,
// Accept-Encoding and the name[] filter.
func variantKey(r *http.Request) string {
	var names []string
	if r.URL != nil && r.URL.RawQuery != "" {
		names = r.URL.Query()["name[]"]
	}
	return strings.Join(r.Header.Values("Accept"), ",") + "\x00" +
		strings.Join(r.Header.Values("Accept-Encoding"), ",") + "\x00" + strings.Join(names, "\x00")
}

// variantRequest is a minimal request carrying only what variantKey reads,
// kept to render the variant again from the next snapshot.
func variantRequest(r *http.Request) *http.Request {
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: PathMetrics}, Header: http.Header{}}
	for _, k := range []string{"Accept", "Accept-Encoding"} {
		if v := r.Header.Values(k); len(v) > 0 {
			req.Header[k] = slices.Clone(v)
		}
	}
	if r.URL != nil && r.URL.RawQuery != "" {
		if names := r.URL.Query()["name[]"]; len(names) > 0 {
			req.URL.RawQuery = url.Values{"name[]": names}.Encode()
		}
	}
	return req
}

// writeTo replays the answer. Header slices are copied: a middleware may
// append to them.
func (v *cachedResponse) writeTo(w http.ResponseWriter) {
	h := w.Header()
	for k, vals := range v.header {
		h[k] = slices.Clone(vals)
	}
	h.Set("Content-Length", strconv.Itoa(len(v.body)))
	w.WriteHeader(v.status)
	_, _ = w.Write(v.body)
}

// recorder is the http.ResponseWriter promhttp renders into.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.buf.Write(p)
}

// Close stops the background refresh of the /metrics cache and waits for a
// gather in flight and for a /healthz ping in flight, or for ctx. Later scrapes are still answered, each from
// a gather of its own. Call it when the service shuts down, after the HTTP
// server: a refresh goroutine lives for one gather (about a millisecond), so
// a Server that is never closed leaks nothing lasting, but a leak check at
// the end of a test could see one in flight.
func (s *Server) Close(ctx context.Context) error {
	if s.mcache != nil {
		if err := s.mcache.close(ctx); err != nil {
			return err
		}
	}
	return s.ping.wait(ctx) // the /healthz ping in flight, if any
}
