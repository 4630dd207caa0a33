package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

// countingGatherer wraps a Gatherer: it counts gathers, records how many
// ran at once, and can hold each gather until its gate is opened.
type countingGatherer struct {
	g prometheus.Gatherer

	calls, inflight, maxInflight atomic.Int64

	mu   sync.Mutex
	gate chan struct{} // non-nil: Gather waits until it is closed
}

func (c *countingGatherer) Gather() ([]*dto.MetricFamily, error) {
	n := c.inflight.Add(1)
	defer c.inflight.Add(-1)
	for m := c.maxInflight.Load(); n > m && !c.maxInflight.CompareAndSwap(m, n); m = c.maxInflight.Load() {
	}
	c.calls.Add(1)
	c.mu.Lock()
	gate := c.gate
	c.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return c.g.Gather()
}

// hold makes the next gathers wait; the returned func lets them go.
func (c *countingGatherer) hold() (release func()) {
	gate := make(chan struct{})
	c.mu.Lock()
	c.gate = gate
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.gate = nil
		c.mu.Unlock()
		close(gate)
	}
}

// cacheEnv is a Server over a fake pool and a registry with only
// poolpilot's collectors (so two gathers of an unchanged pool give the same
// bytes), whose metrics cache gathers through a countingGatherer.
type cacheEnv struct {
	*testEnv
	g *countingGatherer
}

const testMetricsTTL = time.Second

func newCacheEnv(t *testing.T, mutate func(*Options)) *cacheEnv {
	t.Helper()
	e := newTestEnv(t, func(o *Options) {
		o.Registry = prometheus.NewRegistry()
		o.MetricsCacheTTL = testMetricsTTL
		if mutate != nil {
			mutate(o)
		}
	})
	ce := &cacheEnv{testEnv: e}
	if e.srv.mcache != nil {
		ce.g = &countingGatherer{g: e.srv.mcache.gatherer}
		e.srv.mcache.gatherer = ce.g // before any request
	}
	t.Cleanup(func() {
		if err := e.srv.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ce
}

// acquired scrapes /metrics and returns poolpilot_pool_acquired_connections.
func (e *cacheEnv) acquired(t *testing.T) string {
	t.Helper()
	w := e.do("GET", PathMetrics, "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", w.Code, w.Body)
	}
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "poolpilot_pool_acquired_connections "); ok {
			return v
		}
	}
	t.Fatalf("no poolpilot_pool_acquired_connections in:\n%s", w.Body)
	return ""
}

func (e *cacheEnv) setAcquired(n int) {
	e.pool.mu.Lock()
	e.pool.stats.Acquired = n
	e.pool.mu.Unlock()
}

// TestMetricsCacheNeverOlderThanTTL walks the cache through its three ages
// on a fake clock: fresh (served, no gather), past TTL/2 (served, one
// background gather), past TTL (never served: the scrape waits for a new
// gather). A change in the pool shows within TTL, and at once after the
// background gather.
func TestMetricsCacheNeverOlderThanTTL(t *testing.T) {
	e := newCacheEnv(t, nil)
	if got := e.acquired(t); got != "3" || e.g.calls.Load() != 1 {
		t.Fatalf("first scrape: acquired %s after %d gathers, want 3 after 1", got, e.g.calls.Load())
	}
	e.setAcquired(9)
	e.clock.Advance(testMetricsTTL / 2)
	if got := e.acquired(t); got != "3" || e.g.calls.Load() != 1 {
		t.Errorf("at TTL/2: acquired %s after %d gathers, want the cached 3 and no gather", got, e.g.calls.Load())
	}
	e.clock.Advance(time.Millisecond) // past TTL/2: served stale, refreshed behind
	if got := e.acquired(t); got != "3" {
		t.Errorf("just past TTL/2: acquired %s, want the cached 3 (refreshed in the background)", got)
	}
	e.srv.mcache.settle()
	if got := e.acquired(t); got != "9" || e.g.calls.Load() != 2 {
		t.Errorf("after the background gather: acquired %s after %d gathers, want 9 after 2", got, e.g.calls.Load())
	}
	e.setAcquired(11)
	e.clock.Advance(testMetricsTTL + time.Millisecond) // nobody scraped for longer than the TTL
	if got := e.acquired(t); got != "11" || e.g.calls.Load() != 3 {
		t.Errorf("past TTL: acquired %s after %d gathers, want the current 11 after 3 (the scrape waits)", got, e.g.calls.Load())
	}
}

// TestMetricsCacheFloodOneGatherAtATime sends floods of concurrent scrapes
// while the gather is held: with no output yet they all wait for one
// gather; with output past TTL/2 they are all answered while the one
// background gather is still held, i.e. no scrape waits for it.
func TestMetricsCacheFloodOneGatherAtATime(t *testing.T) {
	const n = 64
	e := newCacheEnv(t, nil)
	flood := func() <-chan []string {
		out := make(chan []string, 1)
		go func() {
			var wg sync.WaitGroup
			got := make([]string, n)
			for i := range n {
				wg.Add(1)
				go func() { defer wg.Done(); got[i] = e.acquired(t) }()
			}
			wg.Wait()
			out <- got
		}()
		return out
	}
	allEqual := func(phase string, got []string, want string) {
		t.Helper()
		for i, v := range got {
			if v != want {
				t.Fatalf("%s: scrape %d saw acquired %s, want %s", phase, i, v, want)
			}
		}
	}

	release := e.g.hold()
	done := flood()
	waitUntil(t, "every scrape waiting for the first gather", func() bool { return e.srv.mcache.waiting.Load() == n })
	release()
	allEqual("first flood", <-done, "3")
	if c := e.g.calls.Load(); c != 1 {
		t.Errorf("first flood of %d scrapes: %d gathers, want 1", n, c)
	}

	e.setAcquired(7)
	e.clock.Advance(testMetricsTTL*3/4 + time.Millisecond)
	release = e.g.hold()
	allEqual("flood past TTL/2 with the gather held", <-flood(), "3") // answered while held
	if c, w := e.g.calls.Load(), e.srv.mcache.waiting.Load(); c != 2 || w != 0 {
		t.Errorf("flood past TTL/2: %d gathers (want 2: one background), %d scrapes waiting (want 0)", c, w)
	}
	release()
	e.srv.mcache.settle()
	allEqual("after the refresh", <-flood(), "7")
	if c, m := e.g.calls.Load(), e.g.maxInflight.Load(); c != 2 || m != 1 {
		t.Errorf("%d gathers, at most %d at once; want 2, 1", c, m)
	}
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMetricsCacheRealClockRace hammers the cache from several goroutines
// with a real clock and a 1 ms TTL, so that refreshes, waits and variant
// switches interleave (run it with -race): every answer is whole and at
// most one gather runs at a time.
func TestMetricsCacheRealClockRace(t *testing.T) {
	e := newCacheEnv(t, func(o *Options) { o.Clock = nil; o.MetricsCacheTTL = time.Millisecond })
	h := e.srv.Handler()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc := []string{"identity", "gzip"}[i%2]
			for range 200 {
				w := serve(h, "GET", PathMetrics, "", "Accept-Encoding", enc)
				if w.Code != 200 || !strings.Contains(decoded(t, w.Body.Bytes(), w.Header().Get("Content-Encoding")), "poolpilot_pool_resizes_total 0\n") {
					t.Errorf("scrape (%s): %d %q", enc, w.Code, w.Body.String())
					return
				}
			}
		}()
	}
	wg.Wait()
	if m := e.g.maxInflight.Load(); m != 1 || e.g.calls.Load() < 1 {
		t.Errorf("%d gathers, at most %d at once; want ≥ 1, 1", e.g.calls.Load(), m)
	}
	t.Logf("1600 scrapes, %d gathers", e.g.calls.Load())
}

func decoded(t *testing.T, body []byte, encoding string) string {
	t.Helper()
	if encoding != "gzip" {
		return string(body)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	return string(b)
}

// TestMetricsCacheVariants: a cached answer is byte for byte the answer
// promhttp gives without the cache, for each format, compression and name[]
// filter, and for HEAD; at most maxVariants are kept.
func TestMetricsCacheVariants(t *testing.T) {
	e := newCacheEnv(t, nil)
	h := e.srv.Handler()
	cases := []struct {
		path string
		hdr  []string
	}{
		{PathMetrics, nil},
		{PathMetrics, []string{"Accept-Encoding", "gzip"}},
		{PathMetrics, []string{"Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"}},
		{PathMetrics, []string{"Accept", "text/plain;version=0.0.4;q=0.9,*/*;q=0.1", "Accept-Encoding", "gzip"}},
		{PathMetrics + "?name[]=poolpilot_pool_max_connections&name[]=poolpilot_pool_info", nil},
	}
	for _, c := range cases {
		for range 2 { // the second answer comes from the cache
			got := serve(h, "GET", c.path, "", c.hdr...)
			want := serve(e.srv.metrics, "GET", c.path, "", c.hdr...)
			for _, k := range []string{"Content-Type", "Content-Encoding", "Vary"} {
				if g, w := got.Header().Values(k), want.Header().Values(k); strings.Join(g, ",") != strings.Join(w, ",") {
					t.Errorf("%s %v: %s %q, uncached %q", c.path, c.hdr, k, g, w)
				}
			}
			ce := got.Header().Get("Content-Encoding")
			if got.Code != want.Code || decoded(t, got.Body.Bytes(), ce) != decoded(t, want.Body.Bytes(), ce) {
				t.Errorf("%s %v: cached %d %q\nuncached %d %q", c.path, c.hdr, got.Code, got.Body, want.Code, want.Body)
			}
		}
	}
	if w := serve(h, "GET", PathMetrics+"?name[]=poolpilot_pool_info", ""); strings.Contains(w.Body.String(), "max_connections") {
		t.Errorf("name[] filter not applied: %s", w.Body)
	}
	if w := serve(h, "HEAD", PathMetrics, ""); w.Code != 200 || w.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, Content-Length %q", w.Code, w.Header().Get("Content-Length"))
	}
	for i := range 3 * maxVariants {
		w := serve(h, "GET", PathMetrics, "", "Accept-Encoding", strings.Repeat("x", i)+"gzip")
		if w.Code != 200 || !strings.Contains(decoded(t, w.Body.Bytes(), w.Header().Get("Content-Encoding")), "poolpilot_pool_info") {
			t.Fatalf("variant %d: %d", i, w.Code)
		}
	}
	e.srv.mcache.mu.Lock()
	snap := e.srv.mcache.snap
	e.srv.mcache.mu.Unlock()
	snap.mu.RLock()
	defer snap.mu.RUnlock()
	if len(snap.variants) > maxVariants {
		t.Errorf("%d variants kept, want ≤ %d", len(snap.variants), maxVariants)
	}
	if e.g.calls.Load() != 1 {
		t.Errorf("%d gathers for all these scrapes within the TTL, want 1", e.g.calls.Load())
	}
}

// TestMetricsCacheRefreshCarriesVariants: the background refresh encodes
// again each variant served from the previous snapshot, so a scrape after
// the switch finds its bytes ready; variants nobody asked for are dropped.
func TestMetricsCacheRefreshCarriesVariants(t *testing.T) {
	e := newCacheEnv(t, nil)
	serve(e.srv.Handler(), "GET", PathMetrics, "", "Accept-Encoding", "gzip")
	e.acquired(t)
	e.clock.Advance(testMetricsTTL*3/4 + time.Millisecond)
	e.acquired(t) // identity only: starts the refresh
	e.srv.mcache.settle()
	keys := func() int {
		e.srv.mcache.mu.Lock()
		s := e.srv.mcache.snap
		e.srv.mcache.mu.Unlock()
		s.mu.RLock()
		defer s.mu.RUnlock()
		return len(s.variants)
	}
	if k := keys(); k != 2 {
		t.Errorf("after the first refresh: %d variants ready, want 2 (identity and gzip)", k)
	}
	e.clock.Advance(testMetricsTTL*3/4 + time.Millisecond)
	e.acquired(t) // only identity was served from the last snapshot
	e.srv.mcache.settle()
	if k := keys(); k != 1 {
		t.Errorf("after the second refresh: %d variants ready, want 1 (gzip was not asked for)", k)
	}
}

// TestMetricsCacheDisabled: a negative TTL gathers on every scrape.
func TestMetricsCacheDisabled(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MetricsCacheTTL = -1 })
	if e.srv.mcache != nil {
		t.Fatal("cache built with a negative TTL")
	}
	e.pool.mu.Lock()
	e.pool.stats.Acquired = 5
	e.pool.mu.Unlock()
	if w := e.do("GET", PathMetrics, ""); !strings.Contains(w.Body.String(), "poolpilot_pool_acquired_connections 5\n") {
		t.Errorf("uncached scrape does not show the pool now:\n%s", w.Body)
	}
}

// TestMetricsCacheGatherErrorLoggedOncePerGather: an error is served as
// promhttp serves it (500 when nothing was gathered) and logged once per
// gather, not once per scrape.
func TestMetricsCacheGatherErrorLoggedOncePerGather(t *testing.T) {
	e := newCacheEnv(t, nil)
	e.srv.mcache.gatherer = prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		return nil, errTestGather
	})
	for range 20 {
		if w := e.do("GET", PathMetrics, ""); w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), errTestGather.Error()) {
			t.Fatalf("failed gather: %d %q, want 500 naming the error", w.Code, w.Body)
		}
	}
	if n := strings.Count(e.logs.String(), errTestGather.Error()); n != 1 {
		t.Errorf("gather error logged %d times for 20 scrapes of one gather, want 1:\n%s", n, e.logs)
	}
}

var errTestGather = &testError{"collector exploded"}

type testError struct{ s string }

func (e *testError) Error() string { return e.s }

// TestMetricsCacheCloseNoLeak: after a flood of scrapes with refreshes in
// flight, Close waits for the last gather and no goroutine is left; later
// scrapes are still answered, uncached.
func TestMetricsCacheCloseNoLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := newTestEnv(t, func(o *Options) { o.Clock = nil; o.MetricsCacheTTL = time.Millisecond })
	h := e.srv.Handler()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				serve(h, "GET", PathMetrics, "")
			}
		}()
	}
	wg.Wait()
	if err := e.srv.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	e.pool.mu.Lock()
	e.pool.stats.Acquired = 6
	e.pool.mu.Unlock()
	if w := serve(h, "GET", PathMetrics, ""); !strings.Contains(w.Body.String(), "poolpilot_pool_acquired_connections 6\n") {
		t.Errorf("scrape after Close does not show the pool now:\n%s", w.Body)
	}
	e.srv.mcache.mu.Lock()
	defer e.srv.mcache.mu.Unlock()
	if e.srv.mcache.running != nil {
		t.Errorf("a gather was started after Close")
	}
}

// TestMetricsCacheCloseWaitsForGather: Close returns the context's error
// while a gather is held, and nil once it ends.
func TestMetricsCacheCloseWaitsForGather(t *testing.T) {
	e := newCacheEnv(t, nil)
	e.acquired(t)
	e.clock.Advance(testMetricsTTL*3/4 + time.Millisecond)
	release := e.g.hold()
	e.acquired(t) // starts the held background gather
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.srv.Close(ctx); err == nil || !strings.Contains(err.Error(), "still running") {
		t.Errorf("Close with a gather held and a cancelled context = %v, want 'still running'", err)
	}
	release()
	if err := e.srv.Close(context.Background()); err != nil {
		t.Errorf("Close after the gather ended = %v", err)
	}
}

// TestMetricsCacheWaitEndsWithRequest: a scrape waiting for a held gather
// gives up when its request ends; the gather goes on for the others.
func TestMetricsCacheWaitEndsWithRequest(t *testing.T) {
	e := newCacheEnv(t, nil)
	release := e.g.hold()
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, _ := http.NewRequestWithContext(ctx, "GET", PathMetrics, nil)
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("scrape whose request ended while waiting: %d, want 503", w.Code)
	}
}

// TestMetricsCacheRealPoolFreshness resizes a real pgpool behind a Server
// with a 100 ms TTL on the system clock: every scrape that starts more than
// the TTL after the resize returned shows the new size (the cache never
// serves a gather older than the TTL), and scrapes keep coming until one
// such scrape has been seen.
func TestMetricsCacheRealPoolFreshness(t *testing.T) {
	const ttl = 100 * time.Millisecond
	srv := realPoolServer(t, Options{MetricsCacheTTL: ttl})
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	h := srv.Handler()
	scrape := func() string { return serve(h, "GET", PathMetrics, "", "Accept-Encoding", "gzip").Body.String() }
	show := func(body string, n string) bool {
		zr, err := gzip.NewReader(strings.NewReader(body))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		b, _ := io.ReadAll(zr)
		return strings.Contains(string(b), "poolpilot_pool_max_connections "+n+"\n")
	}
	if !show(scrape(), "4") {
		t.Fatal("first scrape does not show max 4")
	}
	if err := srv.opts.Pool.Resize(context.Background(), 6, 4); err != nil {
		t.Fatalf("Resize: %v", err)
	}
	resized := time.Now()
	for scrapes := 1; ; scrapes++ {
		start := time.Now()
		body := scrape()
		late := start.Sub(resized) > ttl
		if late && !show(body, "6") {
			t.Fatalf("scrape started %v after the resize (TTL %v) does not show max 6", start.Sub(resized), ttl)
		}
		if late {
			t.Logf("%d scrapes until one started past the TTL; all answers consistent", scrapes)
			return
		}
	}
}
