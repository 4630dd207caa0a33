package httpapi

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/poolpilot/poolpilot"
)

const ns = "poolpilot_pool_"

// poolCollector reads Pool.Stats() once per gather, after client_golang's
// dbstats collector (a scrape is served from a gather at most
// Options.MetricsCacheTTL old).
type poolCollector struct {
	pool   poolpilot.Pool
	gauges []gaugeDesc
	counts []counterDesc
	closed *prometheus.Desc
	info   *prometheus.Desc
	hist   *prometheus.Desc
	budget []budgetDesc
}

type gaugeDesc struct {
	desc *prometheus.Desc
	val  func(poolpilot.PoolStats) float64
}

type counterDesc struct {
	desc *prometheus.Desc
	val  func(poolpilot.PoolStats) int64
}

type budgetDesc struct {
	desc *prometheus.Desc
	val  func(*poolpilot.Budget) float64
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(ns+name, help, labels, nil)
}

func ms(v float64) float64 { return v / 1000 }

func newPoolCollector(p poolpilot.Pool) *poolCollector {
	return &poolCollector{
		pool:   p,
		gauges: gaugeDescs(),
		counts: counterDescs(),
		budget: budgetDescs(),
		closed: desc("connections_closed_total", "Server connections closed by the pool, by reason.", "reason"),
		info:   desc("info", "Always 1; labels say whether the pool talks through a transaction pooler and which query mode it uses.", "pooler", "query_mode"),
		hist:   desc("acquire_wait_seconds", "Time callers waited to acquire a connection."),
	}
}

func gaugeDescs() []gaugeDesc {
	g := func(name, help string, f func(poolpilot.PoolStats) float64) gaugeDesc {
		return gaugeDesc{desc(name, help), f}
	}
	return []gaugeDesc{
		g("max_connections", "Maximum number of connections the pool may open (DB_POOL_MAX).", func(s poolpilot.PoolStats) float64 { return float64(s.Max) }),
		g("min_connections", "Number of connections the pool keeps open (DB_POOL_MIN).", func(s poolpilot.PoolStats) float64 { return float64(s.Min) }),
		g("connections", "Connections currently open (acquired, idle or being constructed).", func(s poolpilot.PoolStats) float64 { return float64(s.Total) }),
		g("acquired_connections", "Connections currently acquired by callers.", func(s poolpilot.PoolStats) float64 { return float64(s.Acquired) }),
		g("idle_connections", "Connections currently idle in the pool.", func(s poolpilot.PoolStats) float64 { return float64(s.Idle) }),
		g("constructing_connections", "Connections currently being established.", func(s poolpilot.PoolStats) float64 { return float64(s.Constructing) }),
		g("waiting_callers", "Callers currently blocked waiting to acquire a connection.", func(s poolpilot.PoolStats) float64 { return float64(s.Waiting) }),
		g("oldest_wait_seconds", "How long the longest-waiting caller has been waiting to acquire.", func(s poolpilot.PoolStats) float64 { return ms(s.OldestWaitMS) }),
		g("utilization_ratio", "Acquired connections divided by the pool maximum.", func(s poolpilot.PoolStats) float64 { return s.Utilization }),
		g("acquire_wait_p50_seconds", "Median acquire wait over the statistics window.", func(s poolpilot.PoolStats) float64 { return ms(s.WaitP50MS) }),
		g("acquire_wait_p95_seconds", "95th percentile acquire wait over the statistics window.", func(s poolpilot.PoolStats) float64 { return ms(s.WaitP95MS) }),
		g("acquire_wait_p99_seconds", "99th percentile acquire wait over the statistics window.", func(s poolpilot.PoolStats) float64 { return ms(s.WaitP99MS) }),
		g("acquire_queue_p95_seconds", "95th percentile time queued behind a full pool over the statistics window.", func(s poolpilot.PoolStats) float64 { return ms(s.QueueP95MS) }),
		g("acquire_dial_p95_seconds", "95th percentile time spent establishing a new connection over the statistics window.", func(s poolpilot.PoolStats) float64 { return ms(s.DialP95MS) }),
		g("churn_ratio", "New server connections per acquire over the statistics window.", func(s poolpilot.PoolStats) float64 { return s.Churn }),
		g("stats_window_seconds", "Length of the sliding window of the percentile and churn statistics.", func(s poolpilot.PoolStats) float64 { return s.WindowSeconds }),
		g("idle_timeout_seconds", "Idle time after which a connection above the minimum is closed (DB_POOL_IDLE_TIMEOUT).", func(s poolpilot.PoolStats) float64 { return ms(float64(s.IdleTimeoutMS)) }),
		g("connection_timeout_seconds", "Longest time an acquire may wait (DB_POOL_CONNECTION_TIMEOUT).", func(s poolpilot.PoolStats) float64 { return ms(float64(s.ConnectionTimeoutMS)) }),
		g("max_lifetime_seconds", "Age after which a connection is closed (DB_POOL_MAX_LIFETIME).", func(s poolpilot.PoolStats) float64 { return ms(float64(s.MaxLifetimeMS)) }),
	}
}

func counterDescs() []counterDesc {
	c := func(name, help string, f func(poolpilot.PoolStats) int64) counterDesc {
		return counterDesc{desc(name, help), f}
	}
	return []counterDesc{
		c("acquires_total", "Connection acquires completed.", func(s poolpilot.PoolStats) int64 { return s.Acquires }),
		c("acquire_timeouts_total", "Acquires that gave up after the connection timeout.", func(s poolpilot.PoolStats) int64 { return s.AcquireTimeouts }),
		c("acquire_cancels_total", "Acquires abandoned because the caller's context was cancelled.", func(s poolpilot.PoolStats) int64 { return s.AcquireCancels }),
		c("server_refusals_total", "New connections the server refused with SQLSTATE 53300 (too many clients).", func(s poolpilot.PoolStats) int64 { return s.ServerRefusals }),
		c("connections_opened_total", "Server connections opened by the pool.", func(s poolpilot.PoolStats) int64 { return s.Opened }),
		c("resizes_total", "Live resizes of the pool.", func(s poolpilot.PoolStats) int64 { return s.Resizes }),
	}
}

func budgetDescs() []budgetDesc {
	b := func(name, help string, f func(*poolpilot.Budget) float64) budgetDesc {
		return budgetDesc{desc(name, help), f}
	}
	return []budgetDesc{
		b("server_max_connections", "The server's max_connections at pool start.", func(x *poolpilot.Budget) float64 { return float64(x.MaxConnections) }),
		b("server_available_connections", "Connections the server could still give this pool at start (max_connections minus reserved minus other clients).", func(x *poolpilot.Budget) float64 { return float64(x.Available) }),
		b("budget_ok", "1 when the server can serve this pool's maximum, 0 when it cannot.", func(x *poolpilot.Budget) float64 { return boolFloat(x.OK) }),
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Describe sends every descriptor.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, g := range c.gauges {
		ch <- g.desc
	}
	for _, k := range c.counts {
		ch <- k.desc
	}
	for _, b := range c.budget {
		ch <- b.desc
	}
	ch <- c.closed
	ch <- c.info
	ch <- c.hist
}

// statsHistogrammer is implemented by a pool (pgpool.Pool) that can take
// Stats and AcquireWaitHistogram from one read of its statistics window,
// half the cost of calling both.
type statsHistogrammer interface {
	StatsAndWaitHistogram() (poolpilot.PoolStats, poolpilot.Histogram)
}

// Collect takes one snapshot of the pool and sends every metric from it.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	var s poolpilot.PoolStats
	var h *poolpilot.Histogram
	if sh, ok := c.pool.(statsHistogrammer); ok {
		st, hist := sh.StatsAndWaitHistogram()
		s, h = st, &hist
	} else {
		s = c.pool.Stats()
		if hp, ok := c.pool.(poolpilot.WaitHistogrammer); ok {
			hist := hp.AcquireWaitHistogram()
			h = &hist
		}
	}
	for _, g := range c.gauges {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, g.val(s))
	}
	for _, k := range c.counts {
		ch <- prometheus.MustNewConstMetric(k.desc, prometheus.CounterValue, float64(k.val(s)))
	}
	c.collectClosed(ch, s)
	ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, s.Pooler, s.QueryMode)
	if bud := c.pool.Budget(); bud != nil {
		for _, b := range c.budget {
			ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, b.val(bud))
		}
	}
	if h != nil {
		m, err := prometheus.NewConstHistogram(c.hist, h.Count, h.SumSeconds, h.Buckets)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.hist, err)
			return
		}
		ch <- m
	}
}

// collectClosed sends one series per close reason; closes the pool counted
// without a reason go to reason="other".
func (c *poolCollector) collectClosed(ch chan<- prometheus.Metric, s poolpilot.PoolStats) {
	reasons := make([]string, 0, len(s.ClosedByReason))
	var sum int64
	for r, n := range s.ClosedByReason {
		reasons = append(reasons, r)
		sum += n
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		ch <- prometheus.MustNewConstMetric(c.closed, prometheus.CounterValue, float64(s.ClosedByReason[r]), r)
	}
	if rest := s.Closed - sum; rest > 0 || len(reasons) == 0 {
		ch <- prometheus.MustNewConstMetric(c.closed, prometheus.CounterValue, float64(max(rest, 0)), "other")
	}
}

// serveMetrics answers GET and HEAD /metrics with the registry's text,
// from the metrics cache unless it is disabled or closed.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, http.MethodGet, http.MethodHead)
		return
	}
	if s.mcache != nil && s.mcache.serve(w, r) {
		return
	}
	s.metrics.ServeHTTP(w, r)
}

func (s *Server) newMetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, s.metricsHandlerOpts())
}

func (s *Server) metricsHandlerOpts() promhttp.HandlerOpts {
	return promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{s},
		ErrorHandling: promhttp.ContinueOnError,
	}
}

// slogPrinter adapts the logger to promhttp's Println-style error log.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) {
	p.s.log.Error("metrics: " + p.s.redact(fmt.Sprint(v...)))
}
