package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/advisor"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/loadgen/sqlload"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/source/hostcpu"
)

func init() { commands = append(commands, newSizeCmd) }

type sizeFlags struct {
	dsnEnv, workload, query, script  string
	max, rounds                      int
	step, warmup, maxTotal, p95Bound time.Duration
	instances, maxInstances, surge   int
	planFile, save, chart            string
	json, surgeSet, roundsSet        bool
	h                                sizeHTTPFlags
}

func newSizeCmd(e *env) *cobra.Command {
	f := &sizeFlags{}
	cmd := &cobra.Command{
		Use:   "size",
		Short: "Measure the right pool size: sweep concurrency, fit the Universal Scalability Law, recommend max/min, check the fleet budget",
		Long: `size runs a closed-loop sweep of concurrency (1, 2, 3, 4, 6, 8, 12, 16, 24, … up to
--max) against the database with the chosen workload, through poolpilot's
instrumented pool with max = the step's concurrency, each step warmed up. It
stops early once throughput has clearly fallen (two steps in a row below 80% of
the best). It fits the Universal Scalability Law X(N) = λN/(1+σ(N−1)+κN(N−1)),
recommends max (the smallest measured size reaching 95% of the peak throughput
with p95 within --p95-bound) and min (ceil(max/4)), and checks the fleet's
connection budget: (instances + surge) × max + other clients against
max_connections − reserved.

--script FILE: SQL statements run in order on one connection per iteration; a
statement ends with ';' at the end of a line; '--' lines are comments.

--http URL --admin-url URL: size a running service (any language) instead: its
own pool max is swept through its admin endpoint (PUT {admin-url}/admin/pool,
bearer token from --token-env), each size confirmed in its health document,
while --clients closed-loop clients drive URL; the original size is restored at
the end, also on Ctrl-C or an error.

When the USL fit is poor (a plateau, a super-linear start), max is chosen from
the measurements themselves (method empirical), provided repeated rounds of
each step agree (coefficient of variation ≤ 10%; a second round is measured
when --rounds is not given).

Exit status: 0 with a recommendation (and, with --plan, a plan that fits the
budget); 2 on bad input (flags, unset DSN variable, unreachable database, a
query or script statement that fails); 3 when the data do not support a
recommendation (too few steps, too noisy); 4 when --plan's numbers break the
budget (before 3); 1 when interrupted (the completed steps are still printed).
With --http, 2 also for a missing --admin-url, an empty token variable, a
refused token or an unreachable service, and 1 when the sweep failed or the
original pool size could not be restored (said loudly). See docs/sizing.md.`,
		Example: `  # select 1, default ladder up to 256, 5 s per step
  poolpilot size --dsn-env DATABASE_URL --workload select1
  # the ledger workload, 4 instances at most plus 1 surge, JSON, chart and a saved result for preflight
  poolpilot size --workload ledger --max-instances 4 --surge 1 --json --chart size.svg --save size.json
  # your own transaction, judged against a plan
  poolpilot size --script txn.sql --plan plan.yaml --duration-per-step 10s
  # a running service's own pool (ledgerd, a Node service, …), driving one of its read endpoints
  POOLPILOT_ADMIN_TOKEN=… poolpilot size --http http://127.0.0.1:8080/v1/tenants/t1/trial-balance \
      --admin-url http://127.0.0.1:8080 --max 32 --chart size.svg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runSize(cmd, e, f) },
	}
	f.register(cmd.Flags())
	return cmd
}

func (f *sizeFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.dsnEnv, "dsn-env", pgpool.EnvDatabaseURL, "environment variable holding the PostgreSQL URL")
	fl.StringVar(&f.workload, "workload", "", "built-in workload: select1 (default) or ledger")
	fl.StringVar(&f.query, "query", "", "SQL statement run per request instead of a workload")
	fl.StringVar(&f.script, "script", "", "file of SQL statements run in order per request, on one connection")
	fl.IntVar(&f.max, "max", 256, "highest concurrency (and pool max) of the sweep")
	fl.IntVar(&f.rounds, "rounds", 1, "measure each concurrency this many times (down and up the ladder) and keep the medians: steadier on a shared machine")
	fl.DurationVar(&f.step, "duration-per-step", 5*time.Second, "measured duration of each step")
	fl.DurationVar(&f.warmup, "warmup", time.Second, "warm-up of each step, not measured")
	fl.DurationVar(&f.maxTotal, "max-total", 10*time.Minute, "bound on the whole sweep: a step that would end later is not run")
	fl.DurationVar(&f.p95Bound, "p95-bound", 0, "highest p95 latency a recommended size may have (default: 2× the p95 at the peak-throughput step)")
	fl.IntVar(&f.instances, "instances", 0, "instances of the service now (default 1, or the plan's)")
	fl.IntVar(&f.maxInstances, "max-instances", 0, "instances at the service's largest scale (default --instances)")
	fl.IntVar(&f.surge, "surge", 0, "extra instances a rolling restart runs at once (default 0, or the plan's)")
	fl.StringVar(&f.planFile, "plan", "", "plan whose change.to.max and instance count are judged against the budget and the recommendation")
	fl.BoolVar(&f.json, "json", false, "print the JSON report on stdout instead of the text")
	fl.StringVar(&f.save, "save", "", "also write the JSON report to this file (preflight reads the recommendation from it)")
	fl.StringVar(&f.chart, "chart", "", "write an SVG chart of throughput and p95 against concurrency, with the fit, to this file")
	f.h.register(fl)
}

// validate checks the flags that need no database.
func (f *sizeFlags) validate(cmd *cobra.Command) error {
	set := 0
	for _, n := range []string{"workload", "query", "script"} {
		if cmd.Flags().Changed(n) {
			set++
		}
	}
	switch {
	case set > 1:
		return poolpilot.BadInput("give at most one of --workload, --query and --script")
	case f.workload != "" && f.workload != "select1" && f.workload != "ledger":
		return poolpilot.BadInput("--workload %q: the workloads are select1 and ledger (or give --query or --script)", f.workload)
	case cmd.Flags().Changed("query") && f.query == "":
		return poolpilot.BadInput("--query is empty: give the SQL statement to run")
	case f.max < 1 || f.max > pgpool.MaxPoolMax:
		return poolpilot.BadInput("--max %d must be between 1 and %d", f.max, pgpool.MaxPoolMax)
	case f.rounds < 1 || f.rounds > 20:
		return poolpilot.BadInput("--rounds %d must be between 1 and 20", f.rounds)
	case f.step <= 0:
		return poolpilot.BadInput("--duration-per-step %v must be positive", f.step)
	case f.warmup < 0 || f.p95Bound < 0:
		return poolpilot.BadInput("--warmup and --p95-bound must not be negative")
	case f.maxTotal <= 0:
		return poolpilot.BadInput("--max-total %v must be positive", f.maxTotal)
	case f.instances < 0 || f.maxInstances < 0 || f.surge < 0:
		return poolpilot.BadInput("--instances, --max-instances and --surge must not be negative")
	case f.maxInstances > 0 && f.instances > f.maxInstances:
		return poolpilot.BadInput("--instances %d exceeds --max-instances %d", f.instances, f.maxInstances)
	}
	f.surgeSet = cmd.Flags().Changed("surge")
	f.roundsSet = cmd.Flags().Changed("rounds")
	if err := f.validateHTTP(cmd); err != nil || f.h.http != "" {
		return err
	}
	if f.workload == "" && f.query == "" && f.script == "" {
		f.workload = "select1"
	}
	return nil
}

// sizeDeps are what the sweep runs against, opened from the flags.
type sizeDeps struct {
	pool   *pgpool.Pool
	pooler bool
	target loadgen.Target
	name   string
	dsn    string
	limits *pgpool.ServerLimits
	cpu    advisor.CPUMeter
	notes  []string
	plan   *plan.Plan
}

func runSize(cmd *cobra.Command, e *env, f *sizeFlags) error {
	if err := f.validate(cmd); err != nil {
		return err
	}
	if f.h.http != "" {
		return runSizeHTTP(cmd, e, f)
	}
	ctx := cmd.Context()
	d, err := f.open(ctx, e)
	if d != nil && d.pool != nil {
		defer d.pool.Close()
	}
	if err != nil {
		return err
	}
	sweepMax := f.max
	if d.limits != nil && !d.pooler && d.limits.Available() < sweepMax {
		sweepMax = max(d.limits.Available(), 1)
		d.notes = append(d.notes, fmt.Sprintf("the sweep stops at %d, the connections the server has available (--max %d)", sweepMax, f.max))
	}
	rep := &advisor.Report{Schema: advisor.Schema, Workload: d.name, Target: d.dsn,
		StartedAt: time.Now().UTC().Format(time.RFC3339), WarmupS: f.warmup.Seconds(), StepDurationS: f.step.Seconds(), Rounds: f.rounds, Notes: d.notes}
	if d.limits != nil {
		rep.ServerVersion = d.limits.Version
	}
	res, sweepErr := advisor.Sweep(ctx, d.pool, d.target, advisor.SweepConfig{
		Max: sweepMax, Warmup: f.warmup, StepDuration: f.step, MaxTotal: f.maxTotal, CPU: d.cpu,
		Rounds: f.rounds, ConfirmPoorFit: !f.roundsSet,
		OnStep: func(r, i, of int, s advisor.Step) { fmt.Fprintln(e.stderr, advisor.ProgressLine(r, i, of, s)) },
	})
	interrupted := sweepErr != nil && ctx.Err() != nil
	if sweepErr != nil && !interrupted {
		return fmt.Errorf("sweep: %s", pgpool.Redact(sweepErr.Error()))
	}
	rep.Steps, rep.Stopped, rep.StoppedDetail, rep.Interrupted = res.Steps, res.Stopped, res.Detail, interrupted
	rep.Rounds = max(res.Rounds, 1)
	recErr := rep.Analyse(f.p95Bound)
	f.budget(rep, d)
	if err := f.output(e, rep); err != nil {
		return err
	}
	return sizeExit(rep, interrupted, recErr)
}

func sizeExit(rep *advisor.Report, interrupted bool, recErr error) error {
	switch {
	case interrupted:
		return &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: fmt.Errorf("interrupted after %d steps: the output covers the steps that completed", len(rep.Steps))}
	case rep.Budget != nil && rep.Budget.Plan != nil && !rep.Budget.Plan.Fits:
		return &poolpilot.ExitError{Code: poolpilot.ExitRefused, Err: errors.New(rep.Budget.Plan.Message)}
	case errors.Is(recErr, advisor.ErrRefused):
		return &poolpilot.ExitError{Code: poolpilot.ExitFailed, Err: fmt.Errorf("no recommendation: %s", rep.Recommended.Reason)}
	}
	return nil
}

func (f *sizeFlags) output(e *env, rep *advisor.Report) error {
	if f.json {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if _, err := e.stdout.Write(append(b, '\n')); err != nil {
			return err
		}
	} else if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	if f.save != "" {
		if err := rep.Save(f.save); err != nil {
			return err
		}
	}
	if f.chart != "" {
		if err := os.WriteFile(f.chart, rep.SVG(), 0o644); err != nil {
			return fmt.Errorf("--chart: %w", err)
		}
	}
	return nil
}

// open reads the plan and the script, opens the pool, reads the server's
// limits, finds the postmaster for the CPU meter and preflights the target.
// Every failure is bad input.
func (f *sizeFlags) open(ctx context.Context, e *env) (*sizeDeps, error) {
	d := &sizeDeps{}
	if f.planFile != "" {
		p, err := plan.Load(f.planFile)
		if err != nil {
			return d, poolpilot.BadInput("--plan: %v", err)
		}
		d.plan = p
	}
	var script advisor.Script
	if f.script != "" {
		b, err := os.ReadFile(f.script)
		if err != nil {
			return d, poolpilot.BadInput("--script: %v", err)
		}
		if script, err = advisor.ParseScript(b); err != nil {
			return d, poolpilot.BadInput("--script %s: %v", f.script, err)
		}
	}
	if f.dsnEnv == "" {
		return d, poolpilot.BadInput("--dsn-env is empty: name the variable holding the PostgreSQL URL")
	}
	dsn := e.getenv(f.dsnEnv)
	if dsn == "" {
		return d, poolpilot.BadInput("%s is empty: set it to the PostgreSQL URL, or name another variable with --dsn-env", f.dsnEnv)
	}
	// Only the URL, the pooler mode and the connect timeout come from the
	// environment: the sweep sets max and min itself.
	cfg, err := pgpool.LoadConfig(func(k string) string {
		switch k {
		case pgpool.EnvDatabaseURL:
			return dsn
		case pgpool.EnvPooler, pgpool.EnvConnectionTimeout:
			return e.getenv(k)
		}
		return ""
	})
	if err != nil {
		return d, poolpilot.BadInput("%v", err)
	}
	cfg.Max, cfg.Min = 1, 1
	d.dsn, d.pooler = pgpool.Redact(dsn), cfg.Pooler == pgpool.PoolerTransaction
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d.pool, err = pgpool.Open(octx, cfg, pgpool.Options{AppName: "poolpilot-size", Window: f.step})
	if err != nil {
		return d, poolpilot.BadInput("cannot open the pool (is the database reachable at %s?): %s", d.dsn, pgpool.Redact(err.Error()))
	}
	if l, err := d.pool.ServerLimits(octx); err == nil {
		d.limits = &l
	} else {
		d.notes = append(d.notes, "the server's connection limits could not be read, so there is no budget: "+pgpool.Redact(err.Error()))
	}
	if pid, err := hostcpu.FindPostmaster(octx, d.pool, ""); err == nil {
		d.cpu, _ = hostcpu.New(pid, hostcpu.Options{})
	} else {
		d.notes = append(d.notes, "db_cpu omitted: "+err.Error())
	}
	if err := f.target(octx, d, script); err != nil {
		return d, err
	}
	return d, nil
}

func (f *sizeFlags) target(ctx context.Context, d *sizeDeps, script advisor.Script) error {
	var pre loadgen.Preflighter
	switch {
	case f.script != "":
		t := advisor.NewScriptTarget(d.pool, script)
		d.target, d.name, pre = t, "script "+f.script, t
	case f.query != "":
		t := sqlload.NewQueryTarget(d.pool, f.query)
		d.target, d.name, pre = t, "query", t
	case f.workload == "ledger":
		t, err := sqlload.NewLedgerTarget(ctx, d.pool, loadgen.LedgerOptions{})
		if err != nil {
			return poolpilot.BadInput("ledger workload: %s", pgpool.Redact(err.Error()))
		}
		d.target, d.name, pre = t, "ledger", t
	default:
		t := sqlload.NewQueryTarget(d.pool, sqlload.Select1)
		d.target, d.name, pre = t, "select1", t
	}
	if err := pre.Preflight(ctx); err != nil {
		what := "the " + d.name + " workload"
		if f.script != "" {
			what = "--script " + f.script
		} else if f.query != "" {
			what = "--query"
		}
		return poolpilot.BadInput("%s fails before the sweep: %s", what, pgpool.Redact(err.Error()))
	}
	return nil
}

// budget judges the fleet at the recommended max, and the plan's numbers.
func (f *sizeFlags) budget(rep *advisor.Report, d *sizeDeps) {
	if d.limits == nil {
		return
	}
	fleet := advisor.Fleet{Instances: max(f.maxInstances, f.instances), Surge: f.surge}
	var pb *advisor.PlanBudget
	if p := d.plan; p != nil {
		n := p.Rollout.MaxInstances
		if n == 0 {
			n = len(p.Instances)
		}
		pb = advisor.NewPlanBudget(p, advisor.Check(p.Change.To.Max, rep.Recommended))
		pb.Cluster = assemble.FleetFromCluster(p)
		if fleet.Instances == 0 {
			fleet.Instances = n
		}
		if !f.surgeSet {
			fleet.Surge = p.Rollout.Surge
		}
	}
	fleet.Instances = max(fleet.Instances, 1)
	b := advisor.FleetBudget(*d.limits, d.pooler, fleet, rep.Recommended.Max, pb)
	rep.Budget = &b
}
