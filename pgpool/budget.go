package pgpool

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/budget"
)

// ServerLimits are the server's connection limits and its current load
// (package budget holds the type; this name stays for services).
type ServerLimits = budget.Limits

// judge compares a pool max with what the server can serve. Behind a
// transaction pooler the pool's connections go to the pooler, not the
// server, so the budget is reported but not judged.
func judge(l ServerLimits, poolMax int, pooler string) *poolpilot.Budget {
	in := budget.Input{Limits: l, Fleet: budget.Fleet{Instances: 1}, PoolMax: poolMax, Others: l.OtherConnections}
	if pooler == PoolerTransaction {
		in.Pooler = &budget.Pooler{}
	}
	r := budget.Compute(in)
	b := &poolpilot.Budget{
		MaxConnections: l.MaxConnections, SuperuserReserved: l.SuperuserReserved,
		ReservedConnections: l.ReservedConnections, OtherConnections: l.OtherConnections,
		Available: l.Available(), PoolMax: poolMax, OK: r.Fits,
	}
	switch {
	case in.Pooler != nil:
		b.Message = fmt.Sprintf("behind a transaction pooler: the pool's %d connections go to the pooler; the server has %s for the pooler's own pool",
			poolMax, l.Arithmetic())
	case !r.Fits:
		b.Message = fmt.Sprintf("DB_POOL_MAX %d exceeds what the server can serve: %s", poolMax, l.Arithmetic())
	default:
		b.Message = fmt.Sprintf("DB_POOL_MAX %d fits: %s", poolMax, l.Arithmetic())
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
	b := judge(l, cfg.Max, cfg.Pooler)
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
