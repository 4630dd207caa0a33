package pgpool

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/poolpilot/poolpilot"
)

// ServerLimits are the server's connection limits and its current load.
type ServerLimits struct {
	Version             string `json:"server_version"`
	MaxConnections      int    `json:"max_connections"`
	SuperuserReserved   int    `json:"superuser_reserved_connections"`
	ReservedConnections int    `json:"reserved_connections"` // PostgreSQL 16+, 0 before
	// OtherConnections are client backends open on the server, not counting
	// the connection that asked.
	OtherConnections int `json:"other_connections"`
}

// Available is what a new pool can open: max_connections minus both
// reserves minus the other connections.
func (l ServerLimits) Available() int {
	return l.MaxConnections - l.SuperuserReserved - l.ReservedConnections - l.OtherConnections
}

// Budget compares a pool max with what the server can serve. Behind a
// transaction pooler the pool's connections go to the pooler, not the
// server, so the budget is reported but not judged.
func (l ServerLimits) Budget(poolMax int, pooler string) *poolpilot.Budget {
	b := &poolpilot.Budget{
		MaxConnections: l.MaxConnections, SuperuserReserved: l.SuperuserReserved,
		ReservedConnections: l.ReservedConnections, OtherConnections: l.OtherConnections,
		Available: l.Available(), PoolMax: poolMax,
	}
	b.OK = poolMax <= b.Available
	reserved := fmt.Sprintf("superuser_reserved %d", l.SuperuserReserved)
	if l.ReservedConnections > 0 {
		reserved += fmt.Sprintf(" − reserved %d", l.ReservedConnections)
	}
	switch {
	case pooler == PoolerTransaction:
		b.OK = true
		b.Message = fmt.Sprintf("behind a transaction pooler: the pool's %d connections go to the pooler; the server has max_connections %d − %s − %d other connections = %d for the pooler's own pool",
			poolMax, l.MaxConnections, reserved, l.OtherConnections, b.Available)
	case !b.OK:
		b.Message = fmt.Sprintf("DB_POOL_MAX %d exceeds what the server can serve: max_connections %d − %s − %d other connections = %d",
			poolMax, l.MaxConnections, reserved, l.OtherConnections, b.Available)
	default:
		b.Message = fmt.Sprintf("DB_POOL_MAX %d fits: max_connections %d − %s − %d other connections = %d",
			poolMax, l.MaxConnections, reserved, l.OtherConnections, b.Available)
	}
	return b
}

const limitsSQL = `select current_setting('server_version'),
	current_setting('max_connections')::int,
	current_setting('superuser_reserved_connections')::int,
	coalesce(current_setting('reserved_connections', true), '0')::int,
	(select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid())::int`

// ReadServerLimits reads the server's connection limits over conn; the
// preflight checks and the sizing advisor use it too.
func ReadServerLimits(ctx context.Context, conn *pgx.Conn) (ServerLimits, error) {
	return readServerLimits(ctx, conn)
}

func readServerLimits(ctx context.Context, conn *pgx.Conn) (ServerLimits, error) {
	var l ServerLimits
	err := conn.QueryRow(ctx, limitsSQL, pgx.QueryExecModeSimpleProtocol).Scan(&l.Version, &l.MaxConnections,
		&l.SuperuserReserved, &l.ReservedConnections, &l.OtherConnections)
	if err != nil {
		return l, fmt.Errorf("read server limits: %w", err)
	}
	return l, nil
}

// ServerLimits reads the server's limits now, over a pool connection that
// does not count as "other". It queues like any acquire.
func (p *Pool) ServerLimits(ctx context.Context) (ServerLimits, error) {
	c, err := p.Acquire(ctx)
	if err != nil {
		return ServerLimits{}, err
	}
	defer c.Release()
	l, err := readServerLimits(ctx, c.conn())
	if err != nil {
		return l, p.redact(err)
	}
	// Our own other connections are not "others".
	l.OtherConnections -= int(p.live.Load()) - 1
	if l.OtherConnections < 0 {
		l.OtherConnections = 0
	}
	return l, nil
}

// ServerLimitsAtOpen returns the limits read when the pool opened, or nil
// when they could not be read.
func (p *Pool) ServerLimitsAtOpen() *ServerLimits {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.limits == nil {
		return nil
	}
	l := *p.limits
	return &l
}

func (p *Pool) setLimits(l ServerLimits) {
	cfg := p.Config()
	b := l.Budget(cfg.Max, cfg.Pooler)
	p.mu.Lock()
	p.limits, p.budget = &l, b
	p.mu.Unlock()
	if !b.OK {
		p.log.Warn("POOL CONNECTION BUDGET EXCEEDED: "+b.Message, "dsn", p.dsn, "pool_max", cfg.Max,
			"max_connections", l.MaxConnections, "superuser_reserved_connections", l.SuperuserReserved,
			"reserved_connections", l.ReservedConnections, "other_connections", l.OtherConnections, "available", b.Available)
	} else {
		p.log.Info("pool connection budget", "dsn", p.dsn, "budget", b.Message)
	}
}

// Budget returns the connection budget read at Open (re-judged after a
// resize), or nil when the server's limits could not be read.
func (p *Pool) Budget() *poolpilot.Budget {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.budget == nil {
		return nil
	}
	b := *p.budget
	return &b
}
