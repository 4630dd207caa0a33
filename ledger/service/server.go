package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/httpapi"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/pgpool"
)

// ServiceName is how ledgerd names itself in /healthz and to the server
// (application_name).
const ServiceName = "ledgerd"

// Options are Start's injected dependencies.
type Options struct {
	Logger *slog.Logger    // nil: discard
	Clock  poolpilot.Clock // nil: system clock
	// Window is the sliding window of the pool and request statistics
	// (0: the packages' default, 60s).
	Window time.Duration
	// FaultSeed seeds the fault injector's error sequence (0: from the clock).
	FaultSeed uint64
}

// Server is a running ledgerd.
type Server struct {
	cfg    Config
	log    *slog.Logger
	pool   *pgpool.Pool
	store  *ledger.Store
	api    *httpapi.Server
	faults *ledger.Faults
	http   *http.Server
	ln     net.Listener

	done     chan struct{} // closed when Serve returns
	serveErr error

	shutdownOnce sync.Once
	shutdownErr  error
}

// Start opens the pool, applies the migrations, binds cfg.Addr and serves
// in the background. The returned server runs until Shutdown; ctx bounds
// the start only. Errors never contain the database password.
func Start(ctx context.Context, cfg Config, opts Options) (*Server, error) {
	s := &Server{cfg: cfg, log: opts.Logger, done: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = poolpilot.SystemClock{}
	}
	secrets := httpapi.URLSecrets(cfg.Pool.DatabaseURL)
	redact := func(err error) error { return errors.New(httpapi.Redact(err.Error(), secrets...)) }

	s.log.Info("starting ledgerd", "database_url", pgpool.Redact(cfg.Pool.DatabaseURL), "addr", cfg.Addr,
		"pool_max", cfg.Pool.Max, "pool_min", cfg.Pool.Min, "admin", cfg.AdminToken != "")
	pool, err := pgpool.Open(ctx, cfg.Pool, pgpool.Options{Logger: s.log, Clock: opts.Clock, Window: opts.Window, AppName: ServiceName})
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", redact(err))
	}
	s.pool, s.store = pool, ledger.NewStore(pool)
	if err := s.store.Migrate(ctx); err != nil {
		pool.Close()
		return nil, redact(err)
	}
	seed := opts.FaultSeed
	if seed == 0 {
		seed = uint64(opts.Clock.Now().UnixNano())
	}
	s.faults = ledger.NewFaults(seed, s.log)
	s.faults.PoolMax = func() int { return pool.Config().Max }
	s.api = httpapi.New(httpapi.Options{Pool: pool, Service: ServiceName, AdminToken: cfg.AdminToken,
		Logger: s.log, Clock: opts.Clock, Window: opts.Window, Secrets: secrets})
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	var lc net.ListenConfig
	if s.ln, err = lc.Listen(ctx, "tcp", cfg.Addr); err != nil {
		pool.Close()
		return nil, fmt.Errorf("listen on %s (%s): %w", cfg.Addr, EnvAddr, err)
	}
	go func() {
		defer close(s.done)
		if err := s.http.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
			s.log.Error("ledgerd: serve failed", "err", err)
		}
	}()
	s.log.Info("listening", "addr", s.Addr())
	return s, nil
}

// Handler returns ledgerd's whole HTTP surface: /v1 (through the fault
// injector), /healthz, /metrics, PUT /admin/pool, GET|PUT /admin/faults,
// all measured by httpapi's middleware. Every other path is a JSON 404.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.api.Mount(mux)
	mux.Handle("/v1/", s.faults.Wrap(ledger.NewHandler(s.store, s.log)))
	mux.Handle("/admin/faults", s.api.RequireToken(s.faults.Handler()))
	mux.HandleFunc("/", ledger.NotFound)
	return s.api.Middleware(mux)
}

// Addr is the bound address (the real port when cfg.Addr asked for port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is http://Addr.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Store is the ledger store (for tests and workloads that bypass HTTP).
func (s *Server) Store() *ledger.Store { return s.store }

// Pool is the instrumented pool.
func (s *Server) Pool() *pgpool.Pool { return s.pool }

// Faults is the fault injector behind /admin/faults.
func (s *Server) Faults() *ledger.Faults { return s.faults }

// API is the httpapi server (request statistics, metrics registry).
func (s *Server) API() *httpapi.Server { return s.api }

// Config is the configuration the server runs with.
func (s *Server) Config() Config { return s.cfg }

// Done is closed when the server stops serving (after Shutdown, or when
// serving failed: see Err).
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is the error that stopped serving, nil after a clean Shutdown. Read
// it after Done is closed.
func (s *Server) Err() error { return s.serveErr }

// Shutdown stops accepting connections, waits for in-flight requests until
// ctx ends (then closes their connections), and closes the pool. It is
// idempotent; later calls return the first result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.log.Info("shutting down: no new connections, finishing in-flight requests")
		err := s.http.Shutdown(ctx)
		if err != nil {
			s.log.Warn("shutdown deadline passed: closing the remaining connections", "err", err)
			s.http.Close()
			err = fmt.Errorf("graceful shutdown: %w", err)
		}
		<-s.done
		// The /metrics refresh and the /healthz ping in flight end before the
		// pool they read closes (each is bounded: a gather, a ping timeout).
		if cerr := s.api.Close(ctx); cerr != nil && err == nil {
			err = fmt.Errorf("stop the health and metrics background work: %w", cerr)
		}
		s.pool.Close()
		s.log.Info("stopped")
		s.shutdownErr = err
	})
	return s.shutdownErr
}
