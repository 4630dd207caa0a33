// Package pgserver reads server-side facts from PostgreSQL for preflight:
// connection limits, connections now open, and WAL archiving recency.
package pgserver

import (
	"context"
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/pgpool"
)

// Facts implements change.ServerFacts over a pool.
type Facts struct {
	Pool *pgpool.Pool
}

// Limits reads max_connections, the reserved slots and the client
// connections open now (poolpilot's own excluded), through pgpool.
func (f Facts) Limits(ctx context.Context) (change.ServerLimits, error) {
	l, err := f.Pool.ServerLimits(ctx)
	if err != nil {
		return change.ServerLimits{}, err
	}
	return change.ServerLimits{MaxConnections: l.MaxConnections, SuperuserReserved: l.SuperuserReserved,
		Reserved: l.ReservedConnections, ClientConnections: l.OtherConnections}, nil
}

// LastArchived reads pg_stat_archiver.last_archived_time (zero when WAL
// archiving has never archived anything).
func (f Facts) LastArchived(ctx context.Context) (time.Time, error) {
	var t *time.Time
	if err := f.Pool.QueryRow(ctx, `SELECT last_archived_time FROM pg_stat_archiver`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read pg_stat_archiver: %w", err)
	}
	if t == nil {
		return time.Time{}, nil
	}
	return *t, nil
}

// Backends counts the client backends of the pool's database whose
// application_name is app (poolpilot probe compares them with one pool's
// max to find services that run several processes).
func (f Facts) Backends(ctx context.Context, app string) (int, error) {
	var n int
	err := f.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database() AND backend_type = 'client backend'`, app).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read pg_stat_activity: %w", err)
	}
	return n, nil
}
