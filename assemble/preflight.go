package assemble

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/budget"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/driver/factory"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/pgserver"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/preflight"
)

// ToolPool opens one of poolpilot's own small pools (at most max
// connections, none held idle) to a database, named appName in
// pg_stat_activity so that poolpilot's connections are told from the
// service's. Every part of poolpilot that reads the server or sends it
// load opens its pool here.
func ToolPool(ctx context.Context, dsn, appName string, max int) (*pgpool.Pool, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, fmt.Errorf("no database URL")
	}
	cfg := pgpool.Config{PoolConfig: pgpool.DefaultPoolConfig(), DatabaseURL: dsn}
	cfg.Max, cfg.Min = max, 0
	return pgpool.Open(ctx, cfg, pgpool.Options{AppName: appName})
}

// PreflightOptions are preflight's inputs beyond the plan.
type PreflightOptions struct {
	// PlanDir is <evidence.dir>/<plan name>, where the checklist ticks live.
	PlanDir string
	// Sizing is a sizing report file (preflight --sizing) that overrides
	// the plan's database.sizing_report.
	Sizing string
	// Fleet overrides the fleet facts (nil: from the plan; driver kube
	// reads the cluster).
	Fleet preflight.FleetFacts
	Clock poolpilot.Clock // nil: the system clock
	// Driver is the plan's driver when the caller built it already (a
	// run); nil builds it (factory.New) to ask what it needs.
	Driver change.Driver
}

// Preflight runs the plan's preflight: its own tool pool to the plan's
// database for the server's facts, the instances' health over HTTP, the
// fleet (driver kube) and PgBouncer when the plan names them, the sizing
// report, and the sources a run would build for criteria_sources. A
// database that cannot be opened fails the checks that need it; nothing
// here returns an error, the report says everything.
func Preflight(ctx context.Context, p *plan.Plan, getenv func(string) string, o PreflightOptions) preflight.Report {
	var facts preflight.ServerFacts
	dsnEnv := p.Database.DSNEnv
	pool, err := ToolPool(ctx, getenv(dsnEnv), "poolpilot", 2)
	if err != nil {
		err = fmt.Errorf("%s: %s", dsnEnv, pgpool.Redact(err.Error()))
		facts = unreachable{err}
	} else {
		defer pool.Close()
		facts = pgserver.Facts{Pool: pool}
	}
	clock := o.Clock
	if clock == nil {
		clock = poolpilot.SystemClock{}
	}
	pf := &preflight.Checker{Plan: p, PlanDir: o.PlanDir, Server: facts, Prober: change.HTTPProber{},
		Getenv: getenv, Clock: clock, Fleet: o.Fleet, Sizing: sizingAdvice(p, o.Sizing),
		Sources: planSources{getenv: getenv, p: p, pool: pool, poolErr: err}}
	driverPreflight(pf, p, getenv, o.Driver)
	if p.Database.PgBouncerAdminDSNEnv != "" {
		pf.Pooler = pgbFacts{getenv: getenv, p: p}
	}
	return pf.Run(ctx)
}

// unreachable is ServerFacts for a database that could not be opened.
type unreachable struct{ err error }

func (u unreachable) Limits(context.Context) (budget.Limits, error) {
	return budget.Limits{}, u.err
}
func (u unreachable) LastArchived(context.Context) (time.Time, error) {
	return time.Time{}, u.err
}

// planSources feeds preflight's criteria_sources check with the sources a
// run would build (Sources), none of them started, over preflight's own
// tool pool; each promql query is asked once (Probe).
type planSources struct {
	getenv  func(string) string
	p       *plan.Plan
	pool    *pgpool.Pool // nil: poolErr says why
	poolErr error
}

func (s planSources) Unfed(ctx context.Context) ([]preflight.UnfedCriterion, error) {
	o := Options{Interval: s.p.Evaluation.Interval.D(), Pool: s.pool, PoolErr: s.poolErr, Pushed: []string{poolpilot.MetricViolations}}
	set, err := Sources(ctx, s.p, s.getenv, o)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	set.Probe(ctx)
	_, unfed, err := set.Split(s.p.Criteria)
	if err != nil {
		return nil, err
	}
	out := make([]preflight.UnfedCriterion, len(unfed))
	for i, u := range unfed {
		out[i] = preflight.UnfedCriterion(u)
	}
	return out, nil
}

// driverPreflight gives preflight what the plan's driver declares: the
// variables it reads (credentials_present) and, for an orchestrator
// (kube), the fleet facts, unless the caller gave its own.
func driverPreflight(pf *preflight.Checker, p *plan.Plan, getenv func(string) string, d change.Driver) {
	if d == nil {
		d, _ = factory.New(p, getenv) // an unreachable cluster: its fleet facts answer with the reason
	}
	if n, ok := d.(driver.EnvNeeder); ok {
		pf.DriverEnv = n.NeededEnv
	}
	if f, ok := d.(factory.FleetFacter); ok && pf.Fleet == nil {
		pf.Fleet = f.FleetFacts()
	}
}
