package pgpool

// PROVISIONAL: this file fixes the exported API other packages code against.
// The instrumentation behind it is being built; keep these signatures.

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/poolpilot/poolpilot"
)

// Aliases so that services need not import pgx.
type (
	Tx         = pgx.Tx
	TxOptions  = pgx.TxOptions
	Rows       = pgx.Rows
	Row        = pgx.Row
	Batch      = pgx.Batch
	CommandTag = pgconn.CommandTag
	PgError    = pgconn.PgError
)

// ErrNoRows is returned by Row.Scan when a query returned no row.
var ErrNoRows = pgx.ErrNoRows

// Config is the pool configuration read from the environment.
type Config struct {
	poolpilot.PoolConfig
	DatabaseURL string
}

// Options are the injected dependencies of a pool.
type Options struct {
	Logger  *slog.Logger    // nil: discard
	Clock   poolpilot.Clock // nil: system clock
	Window  time.Duration   // sliding window of the statistics; 0: 60s
	AppName string          // application_name reported to the server
}

// Pool is an instrumented pgxpool.
type Pool struct {
	cfg   Config
	inner *pgxpool.Pool
}

// Open connects a pool. It does not wait for connections beyond a ping.
func Open(ctx context.Context, cfg Config, opts Options) (*Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	pc.MaxConns = int32(cfg.Max)
	pc.MinConns = int32(cfg.Min)
	inner, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, err
	}
	return &Pool{cfg: cfg, inner: inner}, nil
}

func (p *Pool) Close()                                               { p.inner.Close() }
func (p *Pool) Ping(ctx context.Context) error                       { return p.inner.Ping(ctx) }
func (p *Pool) Begin(ctx context.Context) (Tx, error)                { return p.inner.Begin(ctx) }
func (p *Pool) BeginTx(ctx context.Context, o TxOptions) (Tx, error) { return p.inner.BeginTx(ctx, o) }
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (CommandTag, error) {
	return p.inner.Exec(ctx, sql, args...)
}
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (Rows, error) {
	return p.inner.Query(ctx, sql, args...)
}
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) Row {
	return p.inner.QueryRow(ctx, sql, args...)
}
func (p *Pool) Config() poolpilot.PoolConfig { return p.cfg.PoolConfig }
func (p *Pool) Stats() poolpilot.PoolStats {
	return poolpilot.PoolStats{Max: p.cfg.Max, Min: p.cfg.Min}
}
func (p *Pool) Budget() *poolpilot.Budget                      { return nil }
func (p *Pool) Resize(ctx context.Context, max, min int) error { return nil }
