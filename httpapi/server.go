package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/poolpilot/poolpilot"
)

// Routes served by the package.
const (
	PathHealth  = "/healthz"
	PathMetrics = "/metrics"
	PathAdmin   = "/admin/pool"
)

// Defaults of Options.
const (
	DefaultWindow       = 60 * time.Second
	DefaultPingTimeout  = time.Second
	DefaultPingCacheTTL = time.Second
	// DefaultMetricsCacheTTL bounds the age of the /metrics output.
	DefaultMetricsCacheTTL = time.Second
	// MaxAdminBody is the largest PUT /admin/pool body accepted (413 beyond).
	MaxAdminBody = 4 << 10
)

// Options configure a Server. Pool is required; everything else has a
// default.
type Options struct {
	Pool       poolpilot.Pool
	Service    string               // e.g. "ledgerd"
	AdminToken string               // "" disables admin endpoints (404)
	Registry   *prometheus.Registry // nil: a new one; never the global default
	Logger     *slog.Logger         // nil: discard
	Clock      poolpilot.Clock      // nil: system clock
	Window     time.Duration        // request-stats window, default 60s

	// PingTimeout bounds the database ping behind /healthz (default 1s).
	PingTimeout time.Duration
	// PingCacheTTL is how long a ping result is reused (default and maximum
	// 1s), so that a storm of /healthz calls is not a storm of pings.
	PingCacheTTL time.Duration
	// MetricsCacheTTL is the oldest /metrics output served (default 1s;
	// negative: no cache, every scrape gathers). A scrape that finds the
	// output older than half of it starts one background gather, so a
	// stream of scrapes never waits for one; see metricsCache.
	MetricsCacheTTL time.Duration
	// Secrets are literal strings (e.g. URLSecrets(DATABASE_URL)) scrubbed
	// from every error the package shows or logs, on top of the URL and
	// key/value password patterns Redact always removes. AdminToken is
	// always scrubbed.
	Secrets []string
	// CountOwnRoutes makes Middleware count requests to /healthz, /metrics
	// and /admin/pool too; by default they are left out so that health
	// probes and scrapes do not dilute the service's request statistics.
	CountOwnRoutes bool
}

// Server serves the HTTP surface of one pool.
type Server struct {
	opts    Options
	log     *slog.Logger
	clock   poolpilot.Clock
	reg     *prometheus.Registry
	window  *requestWindow
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
	ping    pingCache
	metrics http.Handler  // uncached promhttp over reg
	mcache  *metricsCache // nil: MetricsCacheTTL < 0
	secrets []string
	resize  sync.Mutex // one admin resize at a time
}

// New builds a Server and registers its collectors on the registry.
func New(opts Options) *Server {
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = DefaultPingTimeout
	}
	if opts.PingCacheTTL <= 0 || opts.PingCacheTTL > DefaultPingCacheTTL {
		opts.PingCacheTTL = DefaultPingCacheTTL
	}
	if opts.MetricsCacheTTL == 0 {
		opts.MetricsCacheTTL = DefaultMetricsCacheTTL
	}
	s := &Server{opts: opts, log: opts.Logger, clock: opts.Clock, reg: opts.Registry}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = poolpilot.SystemClock{}
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
		s.register(collectors.NewGoCollector())
		s.register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s.secrets = append([]string{opts.AdminToken}, opts.Secrets...)
	s.window = newRequestWindow(s.clock, opts.Window)
	s.ping = pingCache{ttl: opts.PingCacheTTL}
	s.reqs = registerVec(s, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "HTTP requests served, by status code and method.",
	}, []string{"code", "method"}))
	s.latency = registerVec(s, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by status code and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"code", "method"}))
	if opts.Pool != nil {
		s.register(newPoolCollector(opts.Pool))
	}
	s.metrics = s.newMetricsHandler()
	if opts.MetricsCacheTTL > 0 {
		s.mcache = newMetricsCache(s.reg, s.metricsHandlerOpts(), s.clock, opts.MetricsCacheTTL)
	}
	return s
}

// register adds c to the registry, logging (not panicking) on a clash.
func (s *Server) register(c prometheus.Collector) {
	if err := s.reg.Register(c); err != nil {
		s.log.Error("httpapi: cannot register metrics collector", "err", err)
	}
}

// registerVec registers v, or returns the identical collector already
// registered (two Servers sharing one registry share request metrics).
func registerVec[V prometheus.Collector](s *Server, v V) V {
	err := s.reg.Register(v)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(V); ok {
			return existing
		}
	}
	if err != nil {
		s.log.Error("httpapi: cannot register metrics collector", "err", err)
	}
	return v
}

// Handler serves GET /healthz, GET /metrics and PUT /admin/pool on a mux of
// its own (404 for any other path).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Mount(mux)
	return mux
}

// Mount registers the same routes on an existing mux. The patterns carry no
// method, so that a catch-all route of the service cannot swallow a wrong
// method: each handler answers 405 itself.
func (s *Server) Mount(mux *http.ServeMux) {
	mux.Handle(PathHealth, http.HandlerFunc(s.serveHealth))
	mux.Handle(PathMetrics, http.HandlerFunc(s.serveMetrics))
	mux.Handle(PathAdmin, http.HandlerFunc(s.serveAdmin))
}

// Registry returns the registry the metrics are on; a service may register
// its own collectors there.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// RequestStats returns the windowed statistics of the requests seen by
// Middleware.
func (s *Server) RequestStats() poolpilot.RequestStats { return s.window.snapshot() }

// redact scrubs passwords and the configured secrets from text.
func (s *Server) redact(text string) string { return Redact(text, s.secrets...) }

func isOwnRoute(path string) bool {
	return path == PathHealth || path == PathMetrics || path == PathAdmin
}
