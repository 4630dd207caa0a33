package assemble

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/advisor"
	"github.com/poolpilot/poolpilot/pgbouncer"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/preflight"
)

// pgbFacts reads PgBouncer's admin console and PostgreSQL's limits (over
// the plan's direct database URL) for preflight's pooler budget.
type pgbFacts struct {
	getenv func(string) string
	p      *plan.Plan
}

func (b pgbFacts) Budget(ctx context.Context, instances, poolMax, others int) (preflight.PoolerBudget, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d := b.p.Database
	admin := strings.TrimSpace(b.getenv(d.PgBouncerAdminDSNEnv))
	if admin == "" {
		return preflight.PoolerBudget{}, fmt.Errorf("%s is empty: set it to the admin console URL, e.g. postgres://admin@127.0.0.1:6432/pgbouncer", d.PgBouncerAdminDSNEnv)
	}
	dsn := strings.TrimSpace(b.getenv(d.DSNEnv))
	db := d.PgBouncerDatabase
	if db == "" {
		db = databaseOf(dsn)
		if db == "" {
			return preflight.PoolerBudget{}, fmt.Errorf("cannot tell the PgBouncer database from %s: set database.pgbouncer_database", d.DSNEnv)
		}
	}
	lim, err := pgbouncer.ServerLimits(ctx, dsn)
	if err != nil {
		return preflight.PoolerBudget{}, fmt.Errorf("%s: %w", d.DSNEnv, err)
	}
	c, err := pgbouncer.Connect(ctx, admin)
	if err != nil {
		return preflight.PoolerBudget{}, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	s, err := c.Read(ctx)
	if err != nil {
		return preflight.PoolerBudget{}, err
	}
	bb := pgbouncer.ComputeBudget(s, pgbouncer.BudgetInput{Database: db, Users: 1, Instances: instances, PoolMax: poolMax, OtherClients: others, Server: lim})
	return preflight.PoolerBudget{ClientConnections: bb.ClientConnections, MaxClientConn: bb.MaxClientConn, ClientOK: bb.ClientOK,
		ServerConnections: bb.ServerConnections, ServerAvailable: bb.PostgresAvailable, ServerOK: bb.ServerOK, Lines: bb.Lines}, nil
}

// databaseOf is the database named in a postgres:// URL ("" otherwise).
func databaseOf(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// sizingAdvice reads the sizing report (override, else the plan's
// database.sizing_report relative to the plan file) and judges the plan's
// max against it; nil when there is none.
func sizingAdvice(p *plan.Plan, override string) *preflight.SizingAdvice {
	path := override
	if path == "" {
		if p.Database.SizingReport == "" {
			return nil
		}
		path = p.Path(p.Database.SizingReport)
	}
	rep, err := advisor.LoadReport(path)
	if err != nil {
		return &preflight.SizingAdvice{Source: path, Err: err}
	}
	rec := rep.Recommended
	return &preflight.SizingAdvice{Source: path, Max: rec.Max, Min: rec.Min, Refused: rec.Refused, Reason: rec.Reason,
		Warning: advisor.Check(p.Change.To.Max, rec), FarAbove: advisor.FarAbove}
}
