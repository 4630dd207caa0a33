package pgpool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/redact"
)

// Aliases so that services need not import pgx.
type (
	Tx           = pgx.Tx
	TxOptions    = pgx.TxOptions
	Rows         = pgx.Rows
	Row          = pgx.Row
	Batch        = pgx.Batch
	BatchResults = pgx.BatchResults
	CommandTag   = pgconn.CommandTag
	PgError      = pgconn.PgError
	Identifier   = pgx.Identifier
)

// ErrNoRows is returned by Row.Scan when a query returned no row.
var ErrNoRows = pgx.ErrNoRows

// ErrClosed is returned by calls on a closed pool.
var ErrClosed = errors.New("pgpool: pool is closed")

// ErrTxClosed is returned by a Tx used after its Commit or Rollback (a
// deferred Rollback after a successful Commit returns it and does nothing).
var ErrTxClosed = pgx.ErrTxClosed

// ErrReleased is returned by a Conn used after Release, and by Rows.Scan or
// Rows.Values after the rows were closed: the connection went back to the
// pool and may serve another caller.
var ErrReleased = errors.New("pgpool: handle used after its connection went back to the pool: acquire a new one")

// Config is the pool configuration read from the environment.
type Config struct {
	poolpilot.PoolConfig
	DatabaseURL string
}

// Options are the injected dependencies of a pool.
type Options struct {
	Logger  *slog.Logger    // nil: discard
	Clock   poolpilot.Clock // nil: system clock; places acquires in window slots
	Window  time.Duration   // sliding window of the statistics; 0: 60s
	AppName string          // application_name reported to the server; "": "poolpilot"

	// Tracer receives every query of the pool's connections (otelpgx's
	// tracer, for one); nil: none. An AcquireTracer or ReleaseTracer is
	// called by pgxpool too.
	Tracer pgx.QueryTracer
	// BeforeConnect runs before each new connection (the pool's monitor
	// connection too) on a copy of its config, e.g. to set a cloud IAM
	// token as cc.Password; the pool's own hook runs beside it.
	BeforeConnect func(ctx context.Context, cc *pgx.ConnConfig) error
	// AfterConnect runs on each new pool connection before the pool counts
	// it, e.g. to register custom types; an error discards the connection.
	AfterConnect func(ctx context.Context, c *pgx.Conn) error
}

// Pool is an instrumented pgxpool. One pgxpool with a high ceiling holds the
// connections; a resizable gate admits at most Max concurrent acquires, and
// the pool's own keeper reaps idle and expired connections, trims the pool
// after a shrink and keeps Min connections open (see docs/pool.md).
type Pool struct {
	inner    *pgxpool.Pool
	gate     *gate
	win      *window
	base     time.Time // monotonic origin of mono()
	baseUnix int64     // base in unix nanoseconds
	winDur   time.Duration
	log      *slog.Logger
	clock    poolpilot.Clock
	sysClk   bool
	dsn      string // redacted, for logs
	app      string
	appSet   bool
	mode     pgx.QueryExecMode

	mu     sync.Mutex // cfg, budget, resizes
	cfg    Config
	budget *poolpilot.Budget
	limits *ServerLimits

	live     atomic.Int64 // open connections: opened - closed
	minConns atomic.Int64
	lifetime int64 // nanoseconds; 0: unlimited
	idleNs   atomic.Int64

	acquireTimeouts atomic.Int64
	acquireCancels  atomic.Int64
	acquireErrors   atomic.Int64
	refusals        atomic.Int64
	opened          atomic.Int64
	closed          closeCounts
	resizes         atomic.Int64
	closing         atomic.Bool

	keeperWake chan struct{}
	stop       chan struct{}
	keeperDone chan struct{}
	bg         sync.WaitGroup
	sweepNo    atomic.Int64
	sweeping   atomic.Bool // the keeper holds the idle connections

	mon   monitor
	hooks *hooks // the caller's pgx hooks
}

// Open builds the pool, connects once to read the server's limits (the
// connection budget) and starts the keeper that holds Min connections. It
// fails when the configuration is invalid or the first connection fails
// within DB_POOL_CONNECTION_TIMEOUT; no error or log line holds the password.
func Open(ctx context.Context, cfg Config, opts Options) (*Pool, error) {
	if err := Validate(cfg.PoolConfig); err != nil {
		return nil, err
	}
	if cfg.Source == nil {
		cfg.Source = DefaultPoolConfig().Source
	}
	p := &Pool{
		base: time.Now(),
		log:  opts.Logger, clock: opts.Clock, cfg: cfg, app: opts.AppName,
		dsn: Redact(cfg.DatabaseURL), gate: newGate(cfg.Max),
		keeperWake: make(chan struct{}, 1), stop: make(chan struct{}),
		lifetime: int64(cfg.MaxLifetime), hooks: newHooks(opts),
	}
	p.baseUnix = p.base.UnixNano()
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if _, ok := p.clock.(poolpilot.SystemClock); ok || p.clock == nil {
		p.clock, p.sysClk = poolpilot.SystemClock{}, true
	}
	if p.app == "" {
		p.app = "poolpilot"
	} else {
		p.appSet = true
	}
	w := opts.Window
	if w <= 0 {
		w = 60 * time.Second
	}
	p.win, p.winDur = newWindow(w), w
	p.minConns.Store(int64(cfg.Min))
	p.idleNs.Store(int64(cfg.IdleTimeout))
	pc, err := p.pgxConfig(cfg)
	if err != nil {
		return nil, err
	}
	pc.ConnConfig.Tracer = opts.Tracer
	p.inner, err = pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open pool %s: %w", p.dsn, p.redact(err))
	}
	p.mon.init(pc.ConnConfig, p.app)
	p.mon.before = p.hooks.beforeConnect
	if err := p.start(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Pool) pgxConfig(cfg Config) (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, &ConfigError{Problems: []string{fmt.Sprintf("%s (%s) cannot be parsed: %s", EnvDatabaseURL, p.dsn, parseReason(err, cfg.DatabaseURL))}}
	}
	// The gate enforces Max; pgxpool gets the ceiling so that a resize can
	// grow the pool. Idle reaping, lifetime and Min are the keeper's job.
	pc.MaxConns = MaxPoolMax
	pc.MinConns = 0
	pc.MaxConnIdleTime = 0x7fffffffffffffff
	pc.MaxConnLifetime = 0
	pc.HealthCheckPeriod = 24 * time.Hour
	pc.PingTimeout = cfg.ConnectTimeout
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	if pc.ConnConfig.RuntimeParams == nil {
		pc.ConnConfig.RuntimeParams = map[string]string{}
	}
	if v, set := pc.ConnConfig.RuntimeParams["application_name"]; set && !p.appSet {
		p.app = v
	} else {
		pc.ConnConfig.RuntimeParams["application_name"] = p.app
	}
	p.mode = pc.ConnConfig.DefaultQueryExecMode
	if cfg.Pooler == PoolerTransaction {
		// No server-side prepared statements: a transaction-mode pooler
		// hands each transaction to any server connection.
		p.mode = pgx.QueryExecModeExec
		pc.ConnConfig.DefaultQueryExecMode = p.mode
		pc.ConnConfig.StatementCacheCapacity = 0
		pc.ConnConfig.DescriptionCacheCapacity = 0
	}
	pc.BeforeConnect = p.beforeConnect
	pc.AfterConnect = p.afterConnect
	pc.BeforeClose = p.beforeClose
	return pc, nil
}

// start connects once (bounded by the connection timeout), reads the
// server budget and starts the keeper.
func (p *Pool) start(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout+time.Second)
	defer cancel()
	c, err := p.inner.Acquire(cctx)
	if err != nil {
		p.countConnectError(err)
		return fmt.Errorf("open pool %s: first connection: %w", p.dsn, p.redact(err))
	}
	lim, err := readServerLimits(cctx, c.Conn())
	c.Release()
	if err != nil {
		p.log.Warn("pool: cannot read server limits", "dsn", p.dsn, "err", p.scrub(err))
	} else {
		p.setLimits(lim)
	}
	cfg := p.Config()
	p.log.Info("pool opened", "dsn", p.dsn, "max", cfg.Max, "min", cfg.Min,
		"idle_timeout", cfg.IdleTimeout, "connection_timeout", cfg.ConnectTimeout,
		"max_lifetime", cfg.MaxLifetime, "pooler", cfg.Pooler, "query_mode", p.QueryMode())
	p.keeperDone = make(chan struct{})
	go p.keeper()
	return nil
}

// Close stops the keeper and closes every connection, waiting for acquired
// ones to be released.
func (p *Pool) Close() {
	if p.closing.Swap(true) {
		return
	}
	close(p.stop)
	if p.keeperDone != nil {
		<-p.keeperDone
	}
	p.mon.close()
	if p.inner != nil {
		p.inner.Close()
	}
	p.bg.Wait()
	p.log.Info("pool closed", "dsn", p.dsn)
}

// Config returns the effective configuration with its provenance.
func (p *Pool) Config() poolpilot.PoolConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.cfg.PoolConfig
	c.Source = make(map[string]poolpilot.Provenance, len(p.cfg.Source))
	for k, v := range p.cfg.Source {
		c.Source[k] = v
	}
	return c
}

// QueryMode names the pgx query execution mode in use ("exec" behind a
// transaction pooler, "cache_statement" otherwise).
func (p *Pool) QueryMode() string { return strings.ReplaceAll(p.mode.String(), " ", "_") }

// scrub renders an error for a log line or a returned error: the password
// is never in it.
func (p *Pool) scrub(err error) string {
	msg := redact.Secrets(err.Error(), passwordOf(p.cfg.DatabaseURL))
	return Redact(p.hooks.scrub(msg))
}

func (p *Pool) now() time.Time {
	if p.sysClk {
		return time.Now()
	}
	return p.clock.Now()
}

// connMeta is what the pool knows about one physical connection. It lives
// in the connection's pgconn CustomData.
type connMeta struct {
	p       *Pool
	created int64 // unix nanoseconds
	fresh   bool  // dialed and not yet handed to a caller
	stripe  int   // which wait histogram stripe this connection feeds
	// Owned by the keeper while it holds the connection; an acquire only
	// resets idleSweep when it is set, so the line stays read-mostly.
	idleSweep int64 // keeper sweep that last saw it idle, 0: in use since
	idleSince int64 // unix nanoseconds of the first of those sightings
	_         [64]byte
	// Handles for the connection's holders, each handed out once (see
	// wrap.go); only the current holder touches them.
	slabs handleSlabs
}

const metaKey = "poolpilot"

func metaOf(c *pgx.Conn) *connMeta {
	m, _ := c.PgConn().CustomData()[metaKey].(*connMeta)
	return m
}

func (p *Pool) beforeConnect(ctx context.Context, cc *pgx.ConnConfig) error {
	if p.sweeping.Load() {
		return errSweeping
	}
	if err := p.hooks.beforeConnect(ctx, cc); err != nil {
		return err
	}
	start := time.Now()
	prev := cc.AfterConnect
	cc.AfterConnect = func(ctx context.Context, pc *pgconn.PgConn) error {
		if prev != nil {
			if err := prev(ctx, pc); err != nil {
				return err
			}
		}
		d := time.Since(start)
		s := p.win.at(p.stamp(start.Add(d)))
		s.dial.record(int64(d))
		s.dials.Add(1)
		return nil
	}
	return nil
}

func (p *Pool) afterConnect(ctx context.Context, c *pgx.Conn) error {
	if err := p.hooks.afterConnect(ctx, c); err != nil {
		return err
	}
	m := &connMeta{p: p, created: p.baseUnix + p.mono(), fresh: true, stripe: int(p.opened.Load() % waitStripes)}
	c.PgConn().CustomData()[metaKey] = m
	p.opened.Add(1)
	p.live.Add(1)
	return nil
}

func (p *Pool) beforeClose(c *pgx.Conn) {
	p.live.Add(-1)
	if p.closing.Load() {
		p.closed.add(reasonShutdown)
	} else {
		p.closed.add(reasonBroken)
	}
}

// mono returns monotonic nanoseconds since the pool opened: one clock read.
func (p *Pool) mono() int64 { return int64(time.Since(p.base)) }

// stampMono is stamp for a mono() reading.
func (p *Pool) stampMono(m int64) int64 {
	if p.sysClk {
		return p.baseUnix + m
	}
	return p.clock.Now().UnixNano()
}

// stamp returns the time to file an event under: the measured time with the
// system clock, the injected clock's time otherwise.
func (p *Pool) stamp(t time.Time) int64 {
	if p.sysClk {
		return t.UnixNano()
	}
	return p.clock.Now().UnixNano()
}
