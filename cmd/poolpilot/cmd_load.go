package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/loadgen/sqlload"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/redact"
)

func init() { commands = append(commands, newLoadCmd) }

// loadFlags are the flags every `load` subcommand shares.
type loadFlags struct {
	rate        float64
	ramp        string
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	maxInflight int
	lateAfter   time.Duration
	dropAfter   time.Duration
	timeout     time.Duration
	thresholds  []string
	jsonOut     string
	progress    bool
	tenants     int
	accounts    int
	seed        uint64
}

const loadExamples = `  # 500 requests/s for 30 s after a 5 s warm-up, fail unless p95 < 500 ms
  poolpilot load http --url http://127.0.0.1:8080/healthz --rate 500 --warmup 5s --duration 30s \
      --threshold 'p95<500ms' --threshold 'error_rate<0.001'
  # ramp ledgerd from 100 to 2000 requests/s over 60 s with the checking ledger workload
  poolpilot load http --url http://127.0.0.1:8080 --workload ledger --ramp 100:2000/60s --json result.json
  # POST a body with a header
  poolpilot load http --url http://127.0.0.1:8080/v1/tenants/acme/entries --method POST \
      --body-file entry.json --header 'Content-Type: application/json' --rate 50 --duration 10s
  # select 1 through the instrumented pool, 16 workers back to back (closed model)
  poolpilot load sql --dsn-env DATABASE_URL --workload select1 --concurrency 16 --duration 10s --json -
  # any query at a fixed rate, with a pool wait threshold
  poolpilot load sql --query 'select count(*) from pg_class' --rate 200 --threshold 'pool_wait_p95<10ms'`

func newLoadCmd(e *env) *cobra.Command {
	f := &loadFlags{}
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Send open-model (or closed-model) load to an HTTP service or through a PostgreSQL pool",
		Long: `load sends load at a target arrival rate (--rate, --ramp: the open model) or with a
fixed number of workers (--concurrency: the closed model), measures latency from
each request's intended start (no coordinated omission), and reports target and
achieved rate, errors, late and dropped requests, correctness violations,
latency and scheduling-lag percentiles, and a per-second series.

Exit status: 0 when every threshold holds, 3 when one fails or the workload saw
a violation, 2 on bad input (flags, thresholds, unreachable target), 1 when the
run was interrupted. See docs/loadgen.md.`,
		Example: loadExamples,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return poolpilot.BadInput("say what to load: 'poolpilot load http' or 'poolpilot load sql' (see --help)")
		},
	}
	p := cmd.PersistentFlags()
	p.Float64Var(&f.rate, "rate", 0, "open model: constant arrival rate, requests per second")
	p.StringVar(&f.ramp, "ramp", "", "open model: FROM:TO/DURATION[,…] rate ramps, e.g. 100:2000/60s (held at the last rate after)")
	p.IntVar(&f.concurrency, "concurrency", 0, "closed model: this many workers, each sending back to back")
	p.DurationVar(&f.duration, "duration", 10*time.Second, "measured duration, after the warm-up (with --ramp: the ramp's length minus the warm-up)")
	p.DurationVar(&f.warmup, "warmup", 0, "warm-up before the measured window, excluded from the totals")
	p.IntVar(&f.maxInflight, "max-inflight", loadgen.DefaultMaxInflight, "open model: cap on requests in flight")
	p.DurationVar(&f.lateAfter, "late-after", loadgen.DefaultLateAfter, "a request starting more than this after its intended time counts as late")
	p.DurationVar(&f.dropAfter, "drop-after", loadgen.DefaultDropAfter, "a request that cannot start within this of its intended time (max-inflight reached) is dropped")
	p.DurationVar(&f.timeout, "timeout", loadgen.DefaultTimeout, "timeout of each request")
	p.StringArrayVar(&f.thresholds, "threshold", nil, "pass/fail condition, e.g. 'p95<500ms', 'error_rate<0.001', 'dropped==0' (repeatable)")
	p.StringVar(&f.jsonOut, "json", "", "write the JSON report to this file ('-' for stdout)")
	p.BoolVar(&f.progress, "progress", false, "print the per-second progress line even when stderr is not a terminal")
	p.IntVar(&f.tenants, "tenants", 50, "ledger workload: number of tenants")
	p.IntVar(&f.accounts, "accounts", 8, "ledger workload: checked accounts per tenant")
	p.Uint64Var(&f.seed, "seed", 0, "ledger workload: random seed (0: random)")
	cmd.AddCommand(newLoadHTTPCmd(e, f), newLoadSQLCmd(e, f))
	return cmd
}

func newLoadHTTPCmd(e *env, f *loadFlags) *cobra.Command {
	var url, method, bodyFile, workload string
	var headers []string
	cmd := &cobra.Command{
		Use:     "http",
		Short:   "Load an HTTP endpoint, or ledgerd with the checking ledger workload",
		Example: loadExamples,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, ths, err := f.engineConfig(cmd, false)
			if err != nil {
				return err
			}
			if url == "" {
				return poolpilot.BadInput("--url is missing: give the endpoint (or, with --workload ledger, ledgerd's base URL), e.g. --url http://127.0.0.1:8080")
			}
			client := loadgen.NewHTTPClient(max(f.maxInflight, f.concurrency))
			defer client.CloseIdleConnections()
			target, name, err := f.httpTarget(cmd, client, url, method, bodyFile, workload, headers)
			if err != nil {
				return err
			}
			return f.execute(cmd.Context(), e, cfg, ths, target, name, workload)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&url, "url", "", "URL to load (with --workload ledger: ledgerd's base URL)")
	fl.StringVar(&method, "method", "GET", "HTTP method")
	fl.StringVar(&bodyFile, "body-file", "", "file whose content is the request body")
	fl.StringArrayVar(&headers, "header", nil, "request header 'Key: Value' (repeatable)")
	fl.StringVar(&workload, "workload", "", "built-in workload instead of one request: ledger")
	return cmd
}

func (f *loadFlags) httpTarget(cmd *cobra.Command, client *http.Client, url, method, bodyFile, workload string, headers []string) (loadgen.Target, string, error) {
	switch workload {
	case "":
	case "ledger":
		for _, fl := range []string{"method", "body-file", "header"} {
			if cmd.Flags().Changed(fl) {
				return nil, "", poolpilot.BadInput("--%s does not apply to --workload ledger, which sends its own requests", fl)
			}
		}
		api, err := loadgen.NewLedgerHTTP(url, client)
		if err != nil {
			return nil, "", poolpilot.BadInput("--url: %v", err)
		}
		w, err := loadgen.NewLedgerWorkload(api, f.ledgerOptions())
		if err != nil {
			return nil, "", poolpilot.BadInput("%v", err)
		}
		return w, redact.URL(url), nil
	default:
		return nil, "", poolpilot.BadInput("--workload %q: the HTTP workloads are: ledger", workload)
	}
	req := loadgen.HTTPRequest{Method: strings.ToUpper(method), URL: url, Header: http.Header{}}
	for _, h := range headers {
		k, v, err := loadgen.ParseHeader(h)
		if err != nil {
			return nil, "", poolpilot.BadInput("--header: %v", err)
		}
		req.Header.Add(k, v)
	}
	if bodyFile != "" {
		b, err := os.ReadFile(bodyFile)
		if err != nil {
			return nil, "", poolpilot.BadInput("--body-file: %v", err)
		}
		req.Body = b
	}
	t, err := loadgen.NewHTTPTarget(req, client)
	if err != nil {
		return nil, "", poolpilot.BadInput("--url: %v", err)
	}
	return t, t.String(), nil
}

func (f *loadFlags) ledgerOptions() loadgen.LedgerOptions {
	return loadgen.LedgerOptions{Tenants: f.tenants, Accounts: f.accounts, Seed: f.seed}
}

func newLoadSQLCmd(e *env, f *loadFlags) *cobra.Command {
	var dsn, dsnEnv, query, workload string
	var poolMax, poolMin int
	cmd := &cobra.Command{
		Use:     "sql",
		Short:   "Load PostgreSQL through poolpilot's instrumented pool (pool wait and utilization reported)",
		Example: loadExamples,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, ths, err := f.engineConfig(cmd, true)
			if err != nil {
				return err
			}
			if (query == "") == (workload == "") {
				return poolpilot.BadInput("give exactly one of --query 'select …' and --workload select1|ledger")
			}
			if workload != "" && workload != "select1" && workload != "ledger" {
				return poolpilot.BadInput("--workload %q: the SQL workloads are select1 and ledger", workload)
			}
			pc, err := f.poolConfig(cmd, e, dsn, dsnEnv, poolMax, poolMin)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			octx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			pool, err := pgpool.Open(octx, pc, pgpool.Options{AppName: "poolpilot-load", Window: 10 * time.Second})
			if err != nil {
				return poolpilot.BadInput("cannot open the pool (database unreachable?): %s", pgpool.Redact(err.Error()))
			}
			defer pool.Close()
			var target loadgen.Target
			switch {
			case workload == "ledger":
				lt, err := sqlload.NewLedgerTarget(octx, pool, f.ledgerOptions())
				if err != nil {
					return poolpilot.BadInput("%s", pgpool.Redact(err.Error()))
				}
				target = lt
			case workload == "select1":
				target = sqlload.NewQueryTarget(pool, sqlload.Select1)
			default:
				target = sqlload.NewQueryTarget(pool, query)
			}
			return f.execute(ctx, e, cfg, ths, target, pgpool.Redact(pc.DatabaseURL), workload)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dsn, "dsn", "", "PostgreSQL URL (prefer --dsn-env: a password on the command line is visible to other users)")
	fl.StringVar(&dsnEnv, "dsn-env", pgpool.EnvDatabaseURL, "environment variable holding the PostgreSQL URL")
	fl.StringVar(&query, "query", "", "SQL statement to run per request")
	fl.StringVar(&workload, "workload", "", "built-in workload instead of --query: select1 or ledger")
	fl.IntVar(&poolMax, "pool-max", 0, "pool max connections (default: DB_POOL_MAX or its default)")
	fl.IntVar(&poolMin, "pool-min", 0, "pool min connections (default: DB_POOL_MIN or its default, capped at --pool-max)")
	return cmd
}

// poolConfig reads the pool configuration from the environment (DB_POOL_*),
// the URL from --dsn or the variable --dsn-env names, and the size flags.
func (f *loadFlags) poolConfig(cmd *cobra.Command, e *env, dsn, dsnEnv string, poolMax, poolMin int) (pgpool.Config, error) {
	if dsn == "" {
		if dsnEnv == "" {
			return pgpool.Config{}, poolpilot.BadInput("--dsn-env is empty: name the variable holding the PostgreSQL URL")
		}
		dsn = e.getenv(dsnEnv)
		if dsn == "" {
			return pgpool.Config{}, poolpilot.BadInput("%s is empty: set it to the PostgreSQL URL, or give --dsn or --dsn-env", dsnEnv)
		}
	}
	getenv := func(k string) string {
		if k == pgpool.EnvDatabaseURL {
			return dsn
		}
		return e.getenv(k)
	}
	cfg, err := pgpool.LoadConfig(getenv)
	if err != nil {
		return cfg, poolpilot.BadInput("%v", err)
	}
	if cmd.Flags().Changed("pool-max") {
		cfg.Max, cfg.Source["max"] = poolMax, "flag"
		if !cmd.Flags().Changed("pool-min") {
			cfg.Min = min(cfg.Min, poolMax)
		}
	}
	if cmd.Flags().Changed("pool-min") {
		cfg.Min, cfg.Source["min"] = poolMin, "flag"
	}
	if err := pgpool.ValidateSize(cfg.Max, cfg.Min); err != nil {
		return cfg, poolpilot.BadInput("--pool-max/--pool-min: %v", err)
	}
	return cfg, nil
}

// engineConfig validates the shared flags into an engine configuration and
// the thresholds; pool says whether pool metrics will exist.
func (f *loadFlags) engineConfig(cmd *cobra.Command, pool bool) (loadgen.Config, []loadgen.Threshold, error) {
	fl := cmd.Flags()
	var cfg loadgen.Config
	set := 0
	for _, n := range []string{"rate", "ramp", "concurrency"} {
		if fl.Changed(n) {
			set++
		}
	}
	if set != 1 {
		return cfg, nil, poolpilot.BadInput("give exactly one of --rate N (open model), --ramp FROM:TO/DURATION (open model) and --concurrency N (closed model)")
	}
	for name, d := range map[string]time.Duration{"duration": f.duration, "warmup": f.warmup, "late-after": f.lateAfter, "drop-after": f.dropAfter, "timeout": f.timeout} {
		if d < 0 || (d == 0 && name != "warmup" && fl.Changed(name)) {
			return cfg, nil, poolpilot.BadInput("--%s %v must be positive", name, d)
		}
	}
	var err error
	switch {
	case fl.Changed("rate"):
		if cfg.Schedule, err = loadgen.Constant(f.rate); err != nil {
			return cfg, nil, poolpilot.BadInput("--rate: %v", err)
		}
	case fl.Changed("ramp"):
		if cfg.Schedule, err = loadgen.ParseRamp(f.ramp); err != nil {
			return cfg, nil, poolpilot.BadInput("--ramp: %v", err)
		}
		if !fl.Changed("duration") {
			f.duration = cfg.Schedule.Length() - f.warmup
			if f.duration <= 0 {
				return cfg, nil, poolpilot.BadInput("--warmup %v is as long as the ramp (%v): give --duration", f.warmup, cfg.Schedule.Length())
			}
		}
	default:
		if f.concurrency <= 0 || f.concurrency > 100000 {
			return cfg, nil, poolpilot.BadInput("--concurrency %d must be between 1 and 100000", f.concurrency)
		}
		cfg.Concurrency = f.concurrency
	}
	if f.maxInflight <= 0 {
		return cfg, nil, poolpilot.BadInput("--max-inflight %d must be positive", f.maxInflight)
	}
	cfg.Duration, cfg.Warmup, cfg.MaxInflight = f.duration, f.warmup, f.maxInflight
	cfg.LateAfter, cfg.DropAfter, cfg.Timeout = f.lateAfter, f.dropAfter, f.timeout
	var ths []loadgen.Threshold
	for _, s := range f.thresholds {
		t, err := loadgen.ParseThreshold(s)
		if err != nil {
			return cfg, nil, poolpilot.BadInput("--threshold: %v", err)
		}
		if t.NeedsPool() && !pool {
			return cfg, nil, poolpilot.BadInput("--threshold %q: %s exists only for 'load sql' (a target behind a pool)", s, t.Metric)
		}
		if t.Metric == "rate_ratio" && cfg.Schedule == nil {
			return cfg, nil, poolpilot.BadInput("--threshold %q: the closed model has no target rate; use achieved_rate", s)
		}
		ths = append(ths, t)
	}
	return cfg, ths, nil
}

// execute preflights the target (nothing is written before it passes),
// runs the load, writes the reports and
// turns thresholds and violations into the exit status.
func (f *loadFlags) execute(ctx context.Context, e *env, cfg loadgen.Config, ths []loadgen.Threshold, target loadgen.Target, name, workload string) error {
	if p, ok := target.(loadgen.Preflighter); ok {
		pctx, cancel := context.WithTimeout(ctx, min(cfg.Timeout, 10*time.Second))
		err := p.Preflight(pctx)
		cancel()
		if err != nil {
			return poolpilot.BadInput("preflight: target unreachable or refusing: %s", pgpool.Redact(err.Error()))
		}
	}
	var jsonW io.Writer
	switch f.jsonOut {
	case "":
	case "-":
		jsonW = e.stdout
	default:
		file, err := os.Create(f.jsonOut)
		if err != nil {
			return poolpilot.BadInput("--json: %v", err)
		}
		defer file.Close()
		jsonW = file
	}
	if f.progress || isTerminal(e.stderr) {
		cfg.OnSecond = func(s loadgen.Second) { fmt.Fprintln(e.stderr, progressLine(s)) }
	}
	rep, runErr := loadgen.Run(ctx, cfg, target)
	if rep == nil {
		return poolpilot.BadInput("%v", runErr)
	}
	rep.Target, rep.Workload = name, workload
	failed := loadgen.CheckAll(rep, ths)
	summary := e.stdout
	if jsonW == e.stdout {
		summary = e.stderr
	}
	rep.WriteSummary(summary)
	if jsonW != nil {
		enc := json.NewEncoder(jsonW)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write the JSON report: %w", err)
		}
		if c, ok := jsonW.(io.Closer); ok && jsonW != e.stdout {
			if err := c.Close(); err != nil {
				return fmt.Errorf("write the JSON report: %w", err)
			}
		}
	}
	return loadVerdict(ctx, rep, runErr, failed)
}

// loadVerdict turns the run's outcome into the exit status: interrupted 1,
// violations or failed thresholds 3.
func loadVerdict(ctx context.Context, rep *loadgen.Report, runErr error, failed []loadgen.ThresholdResult) error {
	switch {
	case runErr != nil && errors.Is(runErr, ctx.Err()):
		return &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: fmt.Errorf("interrupted after %d requests: the report covers the part that ran", rep.Requests)}
	case runErr != nil:
		return runErr
	case rep.Violations > 0:
		return &poolpilot.ExitError{Code: poolpilot.ExitFailed, Err: fmt.Errorf("%d correctness violations (P0), e.g.: %s", rep.Violations, strings.Join(rep.ViolationSamples, "; "))}
	case len(failed) > 0:
		msgs := make([]string, len(failed))
		for i, t := range failed {
			msgs[i] = fmt.Sprintf("%s (%s = %s)", t.Expr, t.Metric, t.Actual)
		}
		return &poolpilot.ExitError{Code: poolpilot.ExitFailed, Err: fmt.Errorf("threshold failed: %s", strings.Join(msgs, ", "))}
	}
	return nil
}

func progressLine(s loadgen.Second) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%4ds  rate %8.1f/s", s.T, s.Rate)
	if s.TargetRate > 0 {
		fmt.Fprintf(&b, " (target %.1f)", s.TargetRate)
	}
	fmt.Fprintf(&b, "  errors %d  p95 %.3f ms  in-flight %d", s.Errors, s.P95MS, s.Inflight)
	if s.Late+s.Dropped > 0 {
		fmt.Fprintf(&b, "  late %d  dropped %d", s.Late, s.Dropped)
	}
	if s.Violations > 0 {
		fmt.Fprintf(&b, "  VIOLATIONS %d", s.Violations)
	}
	if s.PoolWaitP95MS != nil {
		fmt.Fprintf(&b, "  pool wait p95 %.3f ms util %.0f%%", *s.PoolWaitP95MS, 100**s.PoolUtilization)
	}
	if s.Warmup {
		b.WriteString("  (warm-up)")
	}
	return b.String()
}
