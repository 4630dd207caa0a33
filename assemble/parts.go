package assemble

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/driver/factory"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/loadgen/sqlload"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/pgserver"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/source/health"
)

// BuildDriver returns the run's driver: Driver when a test set one, else
// the one the plan names (driver/factory). An unknown driver, or a kube
// cluster that cannot be reached, is bad input: nothing has started. In
// the latter case the driver is returned too (it can still describe its
// change: --dry-run), and the error wraps a *driver.UnreachableError. The
// driver is built once per Run.
func (r *Run) BuildDriver() (change.Driver, error) {
	if r.Driver != nil {
		return r.Driver, nil
	}
	if !r.isBuilt { // once: preflight and the run use the same driver
		r.built, r.buildErr = factory.New(r.Plan, r.Getenv)
		if r.buildErr != nil {
			r.buildErr = &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: r.buildErr}
		}
		r.isBuilt = true
	}
	return r.built, r.buildErr
}

// FleetFromCluster reports whether the plan's driver reads its instances
// from an orchestrator (factory.FleetFacter: kube), as preflight's budget
// then counts them from the cluster rather than the plan.
func FleetFromCluster(p *plan.Plan) bool {
	d, _ := factory.New(p, nil) // an unreachable cluster still says what it is
	_, ok := d.(factory.FleetFacter)
	return ok
}

// BackendCounter is verify's view of pg_stat_activity: backends by
// application_name, read through a pool of one connection
// (poolpilot-verify) opened at the first count. close releases it. Nil
// when dsn is empty.
func BackendCounter(dsn string) (count change.BackendCounter, close func()) {
	if dsn == "" {
		return nil, func() {}
	}
	var once sync.Once
	var mu sync.Mutex // facts, between the first count and close
	var facts *pgserver.Facts
	var openErr error
	count = func(ctx context.Context) (map[string]int, error) {
		once.Do(func() {
			octx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			p, err := ToolPool(octx, dsn, "poolpilot-verify", 1)
			if err != nil {
				openErr = errors.New("database: " + pgpool.Redact(err.Error()))
				return
			}
			mu.Lock()
			facts = &pgserver.Facts{Pool: p}
			mu.Unlock()
		})
		if openErr != nil {
			return nil, openErr
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return facts.BackendsByApp(qctx)
	}
	return count, func() {
		mu.Lock()
		defer mu.Unlock()
		if facts != nil {
			facts.Pool.Close()
		}
	}
}

// SelectTarget is the select1 workload: SELECT 1 through a pool of four
// connections (poolpilot-load) to dsn. close releases the pool.
func SelectTarget(ctx context.Context, dsn string) (t loadgen.Target, close func(), err error) {
	pool, err := ToolPool(ctx, dsn, "poolpilot-load", 4)
	if err != nil {
		return nil, nil, fmt.Errorf("select1 workload: %s", pgpool.Redact(err.Error()))
	}
	return sqlload.NewQueryTarget(pool, "SELECT 1"), pool.Close, nil
}

// UnfedOptional drops the optional criteria that no instance's health
// document can feed (a field the service does not send), as preflight's
// criteria_fed check said it would, and returns what it skipped as the
// audit events to record. dp reads each instance's document; when an
// instance does not answer, nothing is dropped (nothing to judge by).
func UnfedOptional(ctx context.Context, instances []plan.Instance, dp change.DocumentProber, specs []poolpilot.CriterionSpec) (kept []poolpilot.CriterionSpec, skipped []evidence.CriterionSkipped) {
	var docs []health.InstanceDoc
	for _, in := range instances {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		d, err := dp.Document(dctx, in)
		cancel()
		if d.Fields == nil {
			return specs, nil
		}
		docs = append(docs, health.InstanceDoc{Instance: in.Name, Doc: d, Err: err})
	}
	feeds := health.Feeds(specs, docs)
	for i, c := range specs {
		f := feeds[i]
		if c.Optional && f.Source == health.Name && (f.Status == health.FeedNone || f.Status == health.FeedUnknown) {
			skipped = append(skipped, evidence.CriterionSkipped{Name: c.Name, Metric: f.Metric, Reason: f.Detail, Optional: true})
			continue
		}
		kept = append(kept, c)
	}
	return kept, skipped
}
