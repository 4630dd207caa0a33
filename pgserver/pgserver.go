// Package pgserver reads server-side facts from PostgreSQL for preflight:
// connection limits, connections now open, and WAL archiving recency.
package pgserver

import (
	"context"
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot/budget"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/preflight"
)

// Facts implements preflight.ServerFacts over a pool.
type Facts struct {
	Pool *pgpool.Pool
}

var _ preflight.ServerFacts = Facts{}

// Limits reads max_connections, the reserved slots and the client
// connections open now (poolpilot's own excluded), through pgpool.
func (f Facts) Limits(ctx context.Context) (budget.Limits, error) {
	return f.Pool.ServerLimits(ctx)
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
	by, err := f.BackendsByApp(ctx)
	if err != nil {
		return 0, err
	}
	return by[app], nil
}

// BackendsByApp counts the client backends of the current database in
// pg_stat_activity by application_name (verify compares them with what the
// services' pools report holding).
func (f Facts) BackendsByApp(ctx context.Context) (map[string]int, error) {
	rows, err := f.Pool.Query(ctx, `SELECT coalesce(application_name, ''), count(*) FROM pg_stat_activity
		WHERE backend_type = 'client backend' AND datname = current_database() GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_activity: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var app string
		var n int
		if err := rows.Scan(&app, &n); err != nil {
			return nil, fmt.Errorf("read pg_stat_activity: %w", err)
		}
		out[app] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pg_stat_activity: %w", err)
	}
	return out, nil
}
