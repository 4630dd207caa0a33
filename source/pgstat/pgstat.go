package pgstat

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/pgpool"
)

// Name is the source's name.
const Name = "pgstat"

// Querier is what the source needs of a pool; *pgpool.Pool satisfies it.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgpool.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgpool.Row
}

// Options configure a Source.
type Options struct {
	// Instance is the Sample.Instance of the server-wide metrics
	// (default "db").
	Instance string
	Clock    poolpilot.Clock // nil: the system clock
	Timeout  time.Duration   // per collection; default 2s
}

// Source collects PostgreSQL statistics.
type Source struct {
	q    Querier
	opts Options

	mu   sync.Mutex
	prev *totals
}

type totals struct {
	at                           time.Time
	commits, rollbacks, deadlock int64
}

var metrics = []string{
	poolpilot.MetricDBConnections, poolpilot.MetricDBConnectionsActive, poolpilot.MetricDBConnectionsIdle, poolpilot.MetricDBConnectionsIdleInTx,
	poolpilot.MetricDBConnectionsByApp, poolpilot.MetricDBWaitingOnLocks, poolpilot.MetricDBCommitsPerS, poolpilot.MetricDBRollbacksPerS, poolpilot.MetricDBDeadlocks,
	poolpilot.MetricDBMaxConnections, poolpilot.MetricDBReservedConnections, poolpilot.MetricDBConnectionsFree,
}

// New returns a source reading through q.
func New(q Querier, opts Options) *Source {
	if opts.Instance == "" {
		opts.Instance = "db"
	}
	if opts.Clock == nil {
		opts.Clock = poolpilot.SystemClock{}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	return &Source{q: q, opts: opts}
}

// Name returns "pgstat".
func (s *Source) Name() string { return Name }

// Metrics lists the metrics of the source.
func (s *Source) Metrics() []string { return append([]string(nil), metrics...) }

// Activity is the pg_stat_activity summary.
type Activity struct {
	Total, Active, Idle, IdleInTx, WaitingOnLocks int
	ByApp                                         map[string]int
}

// Settings are the connection limits of the server.
type Settings struct {
	MaxConnections, SuperuserReserved, Reserved int
}

const activitySQL = `SELECT coalesce(state, ''), coalesce(application_name, ''),
       coalesce(wait_event_type = 'Lock', false), count(*)
FROM pg_stat_activity WHERE backend_type = 'client backend'
GROUP BY 1, 2, 3`

// ReadActivity summarises pg_stat_activity (client backends, this one
// included).
func ReadActivity(ctx context.Context, q Querier) (Activity, error) {
	a := Activity{ByApp: map[string]int{}}
	rows, err := q.Query(ctx, activitySQL)
	if err != nil {
		return a, fmt.Errorf("pg_stat_activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state, app string
		var onLock bool
		var n int
		if err := rows.Scan(&state, &app, &onLock, &n); err != nil {
			return a, fmt.Errorf("pg_stat_activity: %w", err)
		}
		a.Total += n
		switch state {
		case "active":
			a.Active += n
		case "idle":
			a.Idle += n
		case "idle in transaction", "idle in transaction (aborted)":
			a.IdleInTx += n
		}
		if onLock {
			a.WaitingOnLocks += n
		}
		if app == "" {
			app = "(none)"
		}
		a.ByApp[app] += n
	}
	if err := rows.Err(); err != nil {
		return a, fmt.Errorf("pg_stat_activity: %w", err)
	}
	return a, nil
}

// ReadSettings reads max_connections and the reserved slots
// (reserved_connections exists from PostgreSQL 16; 0 before).
func ReadSettings(ctx context.Context, q Querier) (Settings, error) {
	var st Settings
	err := q.QueryRow(ctx, `SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int,
       coalesce(current_setting('reserved_connections', true), '0')::int`).Scan(&st.MaxConnections, &st.SuperuserReserved, &st.Reserved)
	if err != nil {
		return st, fmt.Errorf("connection settings: %w", err)
	}
	return st, nil
}

func (s *Source) readTotals(ctx context.Context) (totals, error) {
	var t totals
	err := s.q.QueryRow(ctx, `SELECT coalesce(sum(xact_commit), 0)::bigint, coalesce(sum(xact_rollback), 0)::bigint,
       coalesce(sum(deadlocks), 0)::bigint FROM pg_stat_database`).Scan(&t.commits, &t.rollbacks, &t.deadlock)
	if err != nil {
		return t, fmt.Errorf("pg_stat_database: %w", err)
	}
	return t, nil
}

// Collect reads the statistics once. A failed query is a gap for the
// metrics it feeds.
func (s *Source) Collect(ctx context.Context) ([]poolpilot.Sample, error) {
	qctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	inst := s.opts.Instance
	var out []poolpilot.Sample
	add := func(m string, v float64) { out = append(out, poolpilot.Sample{Metric: m, Instance: inst, Value: v}) }
	gaps := func(err error, ms ...string) {
		for _, m := range ms {
			out = append(out, poolpilot.Sample{Metric: m, Instance: inst, Gap: true, Reason: err.Error()})
		}
	}
	act, aerr := ReadActivity(qctx, s.q)
	if aerr != nil {
		gaps(aerr, metrics[:6]...)
	} else {
		add(poolpilot.MetricDBConnections, float64(act.Total))
		add(poolpilot.MetricDBConnectionsActive, float64(act.Active))
		add(poolpilot.MetricDBConnectionsIdle, float64(act.Idle))
		add(poolpilot.MetricDBConnectionsIdleInTx, float64(act.IdleInTx))
		add(poolpilot.MetricDBWaitingOnLocks, float64(act.WaitingOnLocks))
		for app, n := range act.ByApp {
			out = append(out, poolpilot.Sample{Metric: poolpilot.MetricDBConnectionsByApp, Instance: app, Value: float64(n)})
		}
	}
	s.collectTotals(qctx, add, gaps)
	st, serr := ReadSettings(qctx, s.q)
	switch {
	case serr != nil:
		gaps(serr, poolpilot.MetricDBMaxConnections, poolpilot.MetricDBReservedConnections, poolpilot.MetricDBConnectionsFree)
	default:
		add(poolpilot.MetricDBMaxConnections, float64(st.MaxConnections))
		add(poolpilot.MetricDBReservedConnections, float64(st.SuperuserReserved+st.Reserved))
		if aerr != nil {
			gaps(aerr, poolpilot.MetricDBConnectionsFree)
		} else {
			add(poolpilot.MetricDBConnectionsFree, float64(st.MaxConnections-st.SuperuserReserved-st.Reserved-act.Total))
		}
	}
	now := s.opts.Clock.Now()
	for i := range out {
		out[i].Time, out[i].Source = now, Name
	}
	return out, ctx.Err()
}

func (s *Source) collectTotals(ctx context.Context, add func(string, float64), gaps func(error, ...string)) {
	rateMetrics := []string{poolpilot.MetricDBCommitsPerS, poolpilot.MetricDBRollbacksPerS, poolpilot.MetricDBDeadlocks}
	t, err := s.readTotals(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.prev = nil
		gaps(err, rateMetrics...)
		return
	}
	t.at = s.opts.Clock.Now()
	prev := s.prev
	s.prev = &t
	if prev == nil || !t.at.After(prev.at) {
		gaps(fmt.Errorf("rates need two successive polls"), rateMetrics...)
		return
	}
	dt := t.at.Sub(prev.at).Seconds()
	rate := func(c, p int64) float64 {
		if c < p { // statistics reset
			return float64(c) / dt
		}
		return float64(c-p) / dt
	}
	add(poolpilot.MetricDBCommitsPerS, rate(t.commits, prev.commits))
	add(poolpilot.MetricDBRollbacksPerS, rate(t.rollbacks, prev.rollbacks))
	add(poolpilot.MetricDBDeadlocks, rate(t.deadlock, prev.deadlock))
}
