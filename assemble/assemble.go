package assemble

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/source"
	"github.com/poolpilot/poolpilot/source/health"
	"github.com/poolpilot/poolpilot/source/hostcpu"
	"github.com/poolpilot/poolpilot/source/integrity"
	"github.com/poolpilot/poolpilot/source/pgstat"
)

// Options say how to build the sources beyond the plan.
type Options struct {
	// Interval is the evaluation interval; each source's timeout derives
	// from it (default 1s).
	Interval time.Duration
	// Integrity lists integrity probe URLs (watch --integrity); empty
	// derives ledgerd's /v1/integrity from the first instance for the
	// ledger workload.
	Integrity []string
	// PromURL overrides the plan's prometheus.url (watch --prometheus).
	PromURL string
	// Pool is an open tool pool to read PostgreSQL with (preflight's; not
	// closed by Close). Nil: Sources opens one of its own, unless PoolErr
	// says the database could not be opened.
	Pool    *pgpool.Pool
	PoolErr error
	// AppName is the application_name of a pool Sources opens.
	AppName string
	// Strict makes a database that is named but cannot be used bad input
	// (watch), instead of a note on the metrics it would have fed (run).
	Strict bool
	// Pushed lists metrics the caller observes itself (a run's violations).
	Pushed []string
}

// SourceSet is the sources built for a plan and what they can feed.
type SourceSet struct {
	Sources []source.Source
	// Provided is the set of metrics the sources (and Options.Pushed) feed.
	Provided map[string]bool
	// Notes says, for a metric no source feeds, why.
	Notes map[string]string
	// Secrets are the values read from the environment for the sources
	// (Prometheus credentials and headers), to redact wherever they could
	// be written.
	Secrets []string
	closers []func()
}

// Close releases what Sources opened (its database pool).
func (s *SourceSet) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// Unfed is a criterion whose metric no source provides.
type Unfed struct {
	Name     string `json:"name"`
	Metric   string `json:"metric"`
	Reason   string `json:"reason"`
	Optional bool   `json:"optional,omitempty"`
}

func (u Unfed) String() string {
	return fmt.Sprintf("criterion %q: metric %s: %s", u.Name, u.Metric, u.Reason)
}

// Split compiles specs and returns those the sources can feed, and the
// others with why; it decides nothing about the others (run refuses them
// unless optional, watch skips them).
func (s *SourceSet) Split(specs []poolpilot.CriterionSpec) (kept []poolpilot.CriterionSpec, unfed []Unfed, err error) {
	compiled, err := criteria.Compile(specs)
	if err != nil {
		return nil, nil, poolpilot.BadInput("criteria: %v", err)
	}
	for i, c := range compiled {
		if s.Provided[c.Key()] {
			kept = append(kept, specs[i])
			continue
		}
		why := s.Notes[c.Key()]
		if why == "" {
			why = "no source provides it"
		}
		unfed = append(unfed, Unfed{Name: c.Name, Metric: c.Key(), Reason: why, Optional: specs[i].Optional})
	}
	return kept, unfed, nil
}

// builder carries one Sources call.
type builder struct {
	p       *plan.Plan
	getenv  func(string) string
	o       Options
	timeout time.Duration
	set     *SourceSet
}

func (b *builder) add(s source.Source) { b.set.Sources = append(b.set.Sources, s) }

// Sources builds the plan's sources: /healthz of every instance, ledgerd's
// integrity probe, PostgreSQL statistics and, for a server on this host,
// its CPU, and Prometheus for promql criteria. Building starts nothing:
// no source polls until a monitor runs it. The error is bad input
// (poolpilot.ExitError, exit 2): an unusable health URL, an unset
// variable the prometheus section names, an unreadable CA file, and with
// Options.Strict an unusable database. On error nothing stays open.
func Sources(ctx context.Context, p *plan.Plan, getenv func(string) string, o Options) (*SourceSet, error) {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.AppName == "" {
		o.AppName = "poolpilot"
	}
	b := &builder{p: p, getenv: getenv, o: o, timeout: max(o.Interval*8/10, 200*time.Millisecond),
		set: &SourceSet{Notes: map[string]string{}}}
	err := b.build(ctx)
	if err != nil {
		b.set.Close()
		return nil, err
	}
	b.set.Provided = source.Provided(b.set.Sources)
	for _, m := range o.Pushed {
		b.set.Provided[m] = true
	}
	return b.set, nil
}

func (b *builder) build(ctx context.Context) error {
	var urls []string
	for _, in := range b.p.Instances {
		urls = append(urls, in.HealthURL)
	}
	hs, err := health.New(urls, health.Options{Timeout: b.timeout})
	if err != nil {
		return poolpilot.BadInput("health: %v", err)
	}
	b.add(hs)
	if err := b.integritySource(urls); err != nil {
		return err
	}
	if err := b.promSource(); err != nil {
		return err
	}
	return b.dbSources(ctx)
}

func (b *builder) integritySource(health []string) error {
	urls := b.o.Integrity
	if len(urls) == 0 && b.p.LoadTest.Workload == "ledger" && len(health) > 0 {
		if u, err := url.Parse(health[0]); err == nil {
			urls = []string{u.Scheme + "://" + u.Host + "/v1/integrity"}
		}
	}
	if len(urls) == 0 {
		b.set.Notes[poolpilot.MetricIntegrityOK] = "only the ledger workload has an integrity probe (ledgerd's /v1/integrity); give --integrity URL to watch"
		return nil
	}
	is, err := integrity.New(urls, integrity.Options{Timeout: max(b.timeout, 2*time.Second)})
	if err != nil {
		return poolpilot.BadInput("integrity: %v", err)
	}
	b.add(is)
	return nil
}

// dbSources adds PostgreSQL statistics and the database host's CPU.
func (b *builder) dbSources(ctx context.Context) error {
	env := b.p.Database.DSNEnv
	pool, why, err := b.pool(ctx, env)
	if err != nil {
		return err
	}
	if pool == nil {
		for _, m := range append(pgstat.New(nil, pgstat.Options{}).Metrics(), poolpilot.MetricDBCPU) {
			b.set.Notes[m] = why
		}
		return nil
	}
	b.add(pgstat.New(pool, pgstat.Options{Timeout: b.timeout}))
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pid, err := hostcpu.FindPostmaster(fctx, pool, "")
	if err != nil {
		b.set.Notes[poolpilot.MetricDBCPU] = err.Error()
		return nil
	}
	cs, err := hostcpu.New(pid, hostcpu.Options{})
	if err != nil {
		b.set.Notes[poolpilot.MetricDBCPU] = err.Error()
		return nil
	}
	b.add(cs)
	return nil
}

// pool is the tool pool to read the database with, or nil and why not;
// the error is for Strict.
func (b *builder) pool(ctx context.Context, env string) (*pgpool.Pool, string, error) {
	switch {
	case b.o.Pool != nil:
		return b.o.Pool, "", nil
	case env == "":
		return nil, "give --dsn-env VAR (or a plan whose database.dsn_env names it)", nil
	case b.o.PoolErr != nil:
		return nil, "database: " + pgpool.Redact(b.o.PoolErr.Error()), nil
	}
	dsn := ""
	if b.getenv != nil {
		dsn = b.getenv(env)
	}
	if dsn == "" {
		if b.o.Strict {
			return nil, "", poolpilot.BadInput("--dsn-env %s: the variable is not set or empty", env)
		}
		return nil, env + " is not set", nil
	}
	cfg := pgpool.Config{PoolConfig: pgpool.DefaultPoolConfig(), DatabaseURL: dsn}
	cfg.Max, cfg.Min = 2, 0
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pool, err := pgpool.Open(octx, cfg, pgpool.Options{AppName: b.o.AppName})
	if err != nil {
		msg := pgpool.Redact(err.Error())
		if b.o.Strict {
			return nil, "", poolpilot.BadInput("--dsn-env %s: %s", env, msg)
		}
		return nil, "database: " + msg, nil
	}
	b.set.closers = append(b.set.closers, pool.Close)
	return pool, "", nil
}
