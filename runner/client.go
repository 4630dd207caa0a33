package runner

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/loadgen"
)

// SourceClient marks a sample whose value is poolpilot's own view of an
// instance (its load's requests), worse than what the instance reported or
// standing in for a report it could not get.
const SourceClient = "client"

// clientMinRequests is how many of poolpilot's own requests an instance
// must have had in the window before their error rate and latency count:
// below it one failed request would read as a 100 % error rate.
const clientMinRequests = 5

// clientView is what poolpilot's own requests (the load test and the
// background load) saw of each instance over a sliding window: the
// client's side of the error rate and latency, which counts beside what
// the service reports — a dead instance reports nothing, but every request
// sent to it fails.
type clientView struct {
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex
	by     map[string][]clientRequest // instance (health URL host:port) → newest last
	totals map[string]*evidence.ClientInstance
	// cache holds each instance's last stats: an evaluation asks for four
	// metrics of an instance in a row, and the window is sorted once.
	cache map[string]cachedStats
	seq   uint64 // requests recorded so far: a new one voids the cache
	// shared are keys whose requests count for every instance: a load
	// test sent through a load balancer, which cannot be pinned to one.
	shared map[string]bool
}

// cachedStats are an instance's stats as computed at a time and seq.
type cachedStats struct {
	st  clientStats
	ok  bool
	at  time.Time
	seq uint64
}

// clientCacheFor is how long cached stats stand for the window when no
// request came since: well under an evaluation interval.
const clientCacheFor = 50 * time.Millisecond

type clientRequest struct {
	at      time.Time
	latency time.Duration
	failed  bool
}

func newClientView(window time.Duration) *clientView {
	return &clientView{window: window, now: time.Now, by: map[string][]clientRequest{}, totals: map[string]*evidence.ClientInstance{},
		cache: map[string]cachedStats{}, shared: map[string]bool{}}
}

// share makes key's requests count for every instance (a load balancer's
// host:port): a failing instance behind it cannot hide, at the price of
// charging every instance with the fleet's errors as a client sees them.
func (v *clientView) share(key string) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.shared[key] = true
	v.seq++
}

// clientWindow is the sliding window for an evaluation interval: five
// intervals, at least 5 s and at most 30 s.
func clientWindow(interval time.Duration) time.Duration {
	return min(max(5*interval, 5*time.Second), 30*time.Second)
}

// failed tells whether a request's error is the service's failure:
// transport errors (refused, reset), timeouts and 5xx count; a request
// poolpilot cancelled itself (its load stopping) does not, nor does a 4xx
// or a 404 (the workload's own business answers: an account not posted
// to yet).
func failed(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, loadgen.ErrLedgerNotFound) {
		return false
	}
	var se *loadgen.StatusError
	if errors.As(err, &se) {
		return se.Code >= 500
	}
	return true
}

// record notes one request to instance.
func (v *clientView) record(instance string, started time.Time, latency time.Duration, err error) {
	if v == nil || errors.Is(err, context.Canceled) {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seq++
	bad := failed(err)
	tot := v.totals[instance]
	if tot == nil {
		tot = &evidence.ClientInstance{Instance: instance, Shared: v.shared[instance]}
		v.totals[instance] = tot
	}
	tot.Requests++
	if bad {
		tot.Failures++
		if tot.FailureKinds == nil {
			tot.FailureKinds = map[string]int64{}
		}
		tot.FailureKinds[loadgen.ErrorKind(err)]++
	}
	rs := append(v.by[instance], clientRequest{at: started.Add(latency), latency: latency, failed: bad})
	v.by[instance] = prune(rs, v.now().Add(-v.window))
}

// restart empties the sliding windows: a phase (the soak) is judged on its
// own requests, not on the tail of the load test's heavier ones.
func (v *clientView) restart() {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.by = map[string][]clientRequest{}
	v.cache = map[string]cachedStats{}
}

// take returns the totals per instance since the previous take, sorted by
// instance, and starts new ones: one phase's worth.
func (v *clientView) take() []evidence.ClientInstance {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]evidence.ClientInstance, 0, len(v.totals))
	for _, t := range v.totals {
		out = append(out, *t)
	}
	v.totals = map[string]*evidence.ClientInstance{}
	sort.Slice(out, func(i, j int) bool { return out[i].Instance < out[j].Instance })
	return out
}

func prune(rs []clientRequest, cut time.Time) []clientRequest {
	// Reslice rather than copy: at a high request rate a copy per request
	// would move the whole window; the dropped head is freed when append
	// next grows the array.
	i := sort.Search(len(rs), func(i int) bool { return !rs[i].at.Before(cut) })
	return rs[i:]
}

// clientStats is the window of one instance.
type clientStats struct {
	requests, errors int
	p50, p95, p99    float64 // ms
}

func (c clientStats) errorRate() float64 { return float64(c.errors) / float64(c.requests) }

// stats returns the instance's window, with the shared windows (a load
// balancer's) when withShared; ok is false with fewer than
// clientMinRequests requests in it.
func (v *clientView) stats(instance string, withShared bool) (clientStats, bool) {
	ck := instance
	keys := []string{instance}
	v.mu.Lock()
	if withShared {
		ck, keys = "shared+"+instance, v.keysFor(instance)
	}
	now := v.now()
	if c, hit := v.cache[ck]; hit && c.seq == v.seq && now.Sub(c.at) >= 0 && now.Sub(c.at) < clientCacheFor {
		v.mu.Unlock()
		return c.st, c.ok
	}
	seq := v.seq
	var st clientStats
	var lat []float64
	for _, key := range keys {
		rs := prune(v.by[key], now.Add(-v.window))
		v.by[key] = rs
		for _, r := range rs {
			st.requests++
			if r.failed {
				st.errors++
			}
			lat = append(lat, float64(r.latency)/float64(time.Millisecond))
		}
	}
	v.mu.Unlock()
	st, ok := summarize(st, lat)
	v.mu.Lock()
	v.cache[ck] = cachedStats{st: st, ok: ok, at: now, seq: seq}
	v.mu.Unlock()
	return st, ok
}

// keysFor is the windows that count for instance: its own and the shared
// ones (sorted, so that the merged window is the same on every call).
// Called with v.mu held.
func (v *clientView) keysFor(instance string) []string {
	keys := []string{instance}
	for k := range v.shared {
		if k != instance {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys[1:])
	return keys
}

// summarize completes st with the percentiles of lat (sorted here); ok is
// false with fewer than clientMinRequests requests.
func summarize(st clientStats, lat []float64) (clientStats, bool) {
	if st.requests < clientMinRequests {
		return st, false
	}
	sort.Float64s(lat)
	q := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	st.p50, st.p95, st.p99 = q(0.50), q(0.95), q(0.99)
	return st, true
}

// transform folds the client's view into an instance's error rate and
// latency samples: the worse of the two counts, and when the instance
// could not be read (a gap) while poolpilot's requests to it had answers
// — or failures — those stand in for it. Other samples pass unchanged.
func (v *clientView) transform(s poolpilot.Sample) poolpilot.Sample {
	if v == nil || s.Source != criteria.SourceHealth {
		return s
	}
	var pick func(clientStats) float64
	switch s.Metric {
	case poolpilot.MetricErrorRate:
		pick = clientStats.errorRate
	case poolpilot.MetricLatencyP50:
		pick = func(c clientStats) float64 { return c.p50 }
	case poolpilot.MetricLatencyP95:
		pick = func(c clientStats) float64 { return c.p95 }
	case poolpilot.MetricLatencyP99:
		pick = func(c clientStats) float64 { return c.p99 }
	default:
		return s
	}
	if s.Gap {
		// Only requests sent to this instance may stand in for its missing
		// report: a load balancer's answers may all have come from others.
		if st, ok := v.stats(s.Instance, false); ok {
			reason := "poolpilot's own requests (" + s.Reason + ")"
			s.Gap, s.Value, s.Source, s.Reason = false, pick(st), SourceClient, reason
		}
		return s
	}
	if st, ok := v.stats(s.Instance, true); ok && pick(st) > s.Value {
		s.Value, s.Source = pick(st), SourceClient
	}
	return s
}

// instanceKey is how the health source names an instance: its health
// URL's host:port.
func instanceKey(healthURL string) string {
	u, err := url.Parse(healthURL)
	if err != nil {
		return healthURL
	}
	return u.Host
}

// recordingLedger records each call to one instance in the client view.
type recordingLedger struct {
	loadgen.Ledger
	instance string
	view     *clientView
}

func (l recordingLedger) PostEntry(ctx context.Context, tenant, d string, lines []loadgen.LedgerLine) error {
	t := time.Now()
	err := l.Ledger.PostEntry(ctx, tenant, d, lines)
	l.view.record(l.instance, t, time.Since(t), err)
	return err
}

func (l recordingLedger) Balance(ctx context.Context, tenant, account string) (loadgen.LedgerBalance, error) {
	t := time.Now()
	b, err := l.Ledger.Balance(ctx, tenant, account)
	l.view.record(l.instance, t, time.Since(t), err)
	return b, err
}

func (l recordingLedger) TrialBalance(ctx context.Context, tenant string) (loadgen.LedgerTrialBalance, error) {
	t := time.Now()
	b, err := l.Ledger.TrialBalance(ctx, tenant)
	l.view.record(l.instance, t, time.Since(t), err)
	return b, err
}

// recordingTarget records each request of a target aimed at one instance.
type recordingTarget struct {
	loadgen.Target
	instance string
	view     *clientView
}

func (t recordingTarget) Do(ctx context.Context) (loadgen.Result, error) {
	start := time.Now()
	res, err := t.Target.Do(ctx)
	t.view.record(t.instance, start, time.Since(start), err)
	return res, err
}
