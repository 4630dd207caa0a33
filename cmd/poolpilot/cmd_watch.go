package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/monitor"
	"github.com/poolpilot/poolpilot/plan"
)

func init() { commands = append(commands, newWatchCmd) }

type watchFlags struct {
	health, integrity                       []string
	dsnEnv, planFile, criteriaFile, promURL string
	poolMax, poolMin                        int
	duration, window, interval, maxInconc   time.Duration
	baseline                                time.Duration
	json, keepGoing                         bool
	intervalSet                             bool
}

func newWatchCmd(e *env) *cobra.Command {
	var f watchFlags
	cmd := &cobra.Command{
		Use:   "watch (--health URL,… [--dsn-env VAR] | --plan FILE) [flags]",
		Short: "Evaluate success criteria and rollback triggers live, changing nothing",
		Long: `watch evaluates success criteria and rollback triggers live against running
services without changing anything (a dry run of the change controller's
monitoring): it polls each instance's /healthz, and with --dsn-env the
PostgreSQL statistics and, for a server on this host, its CPU.

On a terminal it shows a table refreshed every interval (criterion, value,
threshold, state, time to fire); otherwise, or with --json, one JSON object
per line. It stops when a rollback trigger fires (unless --keep-going), after
--duration, or on Ctrl-C.

Baseline-relative criteria ("latency_p95_ms <= baseline * 1.2") stay
inconclusive until --baseline D has passed: the baseline is then the mean of
what was seen during those first D.

Criteria: --criteria FILE (a YAML list of criteria), else the plan's, else
the seed's default set for --pool-max/--pool-min. Criteria of the default set
or of the plan whose metric no given source provides are skipped, and said so.

promql criteria query the plan's prometheus section (url; credentials and
headers from the environment variables it names; ca_file), or --prometheus
URL, which overrides the plan's URL.

Exit status: 0 no rollback trigger fired, 3 one fired, 2 bad input.`,
		Example: `  poolpilot watch --health http://127.0.0.1:8080/healthz
  poolpilot watch --health http://10.0.0.1:8080/healthz,http://10.0.0.2:8080/healthz --dsn-env DATABASE_URL --duration 10m
  poolpilot watch --plan plan.yaml --window 2s --json
  poolpilot watch --health http://127.0.0.1:8080/healthz --criteria criteria.yaml --interval 500ms`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.intervalSet = cmd.Flags().Changed("interval")
			return runWatch(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.health, "health", nil, "`URL`s of the instances' /healthz, comma-separated")
	fl.StringSliceVar(&f.integrity, "integrity", nil, "`URL`s of integrity probes (e.g. ledgerd's /v1/integrity)")
	fl.StringVar(&f.dsnEnv, "dsn-env", "", "environment `VAR` holding the database URL (pg statistics, and CPU when local)")
	fl.StringVar(&f.planFile, "plan", "", "plan `FILE`: its instances, database and criteria")
	fl.StringVar(&f.criteriaFile, "criteria", "", "YAML `FILE` with a list of criteria (default: the plan's, else the seed's)")
	fl.StringVar(&f.promURL, "prometheus", "", "Prometheus `URL` for promql criteria")
	fl.IntVar(&f.poolMax, "pool-max", 200, "pool max the default success criteria expect")
	fl.IntVar(&f.poolMin, "pool-min", 20, "pool min the default success criteria expect")
	fl.DurationVar(&f.duration, "duration", 0, "stop after this long (default: until Ctrl-C)")
	fl.DurationVar(&f.window, "window", 0, "override every criterion's sustain window (for drills)")
	fl.DurationVar(&f.interval, "interval", time.Second, "evaluation interval")
	fl.DurationVar(&f.maxInconc, "max-inconclusive", 0, "how long a criterion may lack data before that counts as firing (default 5m)")
	fl.DurationVar(&f.baseline, "baseline", 0, "after this long, take the mean of what was seen as the baseline of baseline-relative criteria")
	fl.BoolVar(&f.json, "json", false, "JSON lines even on a terminal")
	fl.BoolVar(&f.keepGoing, "keep-going", false, "keep watching after a rollback trigger fired")
	return cmd
}

// watchSetup is everything a watch needs, built from the flags.
type watchSetup struct {
	specs    []poolpilot.CriterionSpec
	explicit bool // criteria from --criteria: refuse, not skip, what cannot be watched
	set      *assemble.SourceSet
	interval time.Duration
	maxInc   time.Duration
}

func (w *watchSetup) close() {
	if w.set != nil {
		w.set.Close()
	}
}

func runWatch(ctx context.Context, e *env, f watchFlags) error {
	if f.interval <= 0 || f.duration < 0 || f.window < 0 || f.maxInconc < 0 || f.baseline < 0 {
		return poolpilot.BadInput("--interval must be positive; --duration, --window, --baseline and --max-inconclusive must not be negative")
	}
	w, err := setupWatch(ctx, e, f)
	if w != nil {
		defer w.close()
	}
	if err != nil {
		return err
	}
	specs := w.specs
	if f.window > 0 {
		specs = criteria.WithWindow(specs, f.window)
	}
	kept, skipped, err := w.filter(specs)
	if err != nil {
		return err
	}
	eng, err := criteria.New(kept, criteria.Options{Interval: w.interval, MaxInconclusive: w.maxInc, BaselineWindow: f.baseline + 3*w.interval})
	if err != nil {
		return poolpilot.BadInput("criteria: %v", err)
	}
	r := newWatchRenderer(e.stdout, f.json)
	r.start(eng, w.set.Sources, skipped)
	dec := watchLoop(ctx, e, f, w, eng, r)
	r.end(dec)
	if dec != nil {
		return &poolpilot.ExitError{Code: poolpilot.ExitFailed, Err: fmt.Errorf("rollback trigger %q (%s) fired: %s", dec.Criterion, dec.Class, dec.Reason)}
	}
	return nil
}

// watchLoop runs the same sources → engine loop as a run's soak
// (monitor): one collection from every source, then each source on its own
// ticker (a slow source must not make the others' samples stale), and an
// evaluation every interval until the duration ends, ctx ends or (without
// --keep-going) a trigger fires. The baseline is captured at the first
// evaluation after --baseline has passed.
func watchLoop(ctx context.Context, e *env, f watchFlags, w *watchSetup, eng *criteria.Engine, r *watchRenderer) *criteria.Decision {
	onErr := errReporter(ctx, e)
	// A watch keeps no per-evaluation history (a run keeps it for evidence).
	m := monitor.Start(ctx, eng, w.set.Sources, monitor.Options{Interval: w.interval, OnError: onErr, MaxSamples: 1})
	defer m.Stop()
	start := time.Now()
	needBaseline := f.baseline > 0
	_ = m.Run(ctx, f.duration, func(ev criteria.Evaluation) bool {
		if needBaseline && time.Since(start) >= f.baseline {
			needBaseline = false
			if _, err := eng.CaptureBaseline(f.baseline); err != nil {
				onErr(err)
			}
		}
		if ctx.Err() != nil { // interrupted: do not print a last evaluation
			return true
		}
		r.evaluation(ev)
		return ev.Decision != nil && !f.keepGoing
	})
	return eng.Decision()
}

// errReporter prints each distinct source error once.
func errReporter(ctx context.Context, e *env) func(error) {
	var mu sync.Mutex
	reported := map[string]bool{}
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if !reported[err.Error()] && ctx.Err() == nil {
			reported[err.Error()] = true
			fmt.Fprintf(e.stderr, "poolpilot watch: %v\n", err)
		}
	}
}

// setupWatch builds the watch's criteria and its sources (assemble.Sources,
// as a run does) from a plan, or from --health and --dsn-env without one.
func setupWatch(ctx context.Context, e *env, f watchFlags) (*watchSetup, error) {
	w := &watchSetup{interval: f.interval, maxInc: f.maxInconc}
	p := &plan.Plan{}
	switch {
	case f.planFile != "" && len(f.health) > 0:
		return nil, poolpilot.BadInput("give --plan or --health, not both: the plan names the instances")
	case f.planFile != "":
		lp, err := plan.Load(f.planFile)
		if err != nil {
			return nil, poolpilot.BadInput("%v", err)
		}
		p, w.specs = lp, lp.Criteria
		if !f.intervalSet && p.Evaluation.Interval > 0 {
			w.interval = p.Evaluation.Interval.D()
		}
		if w.maxInc == 0 {
			w.maxInc = p.Evaluation.MaxInconclusive.D()
		}
	case len(f.health) == 0:
		return nil, poolpilot.BadInput("nothing to watch: give --health URL,… (or --plan FILE)")
	default:
		for i, u := range f.health {
			p.Instances = append(p.Instances, plan.Instance{Name: fmt.Sprintf("instance-%d", i+1), HealthURL: u})
		}
		w.specs = criteria.SeedDefaults(criteria.SeedTargets{Max: f.poolMax, Min: f.poolMin})
	}
	if f.dsnEnv != "" {
		p.Database.DSNEnv = f.dsnEnv
	}
	if f.criteriaFile != "" {
		specs, err := loadCriteriaFile(f.criteriaFile)
		if err != nil {
			return nil, err
		}
		w.specs, w.explicit = specs, true
	}
	if err := criteria.Validate(w.specs); err != nil {
		return nil, poolpilot.BadInput("criteria: %v", err)
	}
	p.Criteria = w.specs // the promql queries to run
	set, err := assemble.Sources(ctx, p, e.getenv, assemble.Options{Interval: w.interval, Integrity: f.integrity,
		PromURL: f.promURL, AppName: "poolpilot-watch", Strict: true})
	if err != nil {
		return nil, err
	}
	set.Notes[poolpilot.MetricViolations] = "pushed by the load generator during a run; watch has none"
	w.set = set
	return w, nil
}

// skippedCriterion is a criterion watch cannot evaluate for want of a source.
type skippedCriterion struct {
	Name   string `json:"name"`
	Metric string `json:"metric"`
	Reason string `json:"reason"`
}

// filter drops the criteria whose metric no source provides: refused for
// --criteria, skipped (and reported) for the defaults and a plan's.
func (w *watchSetup) filter(specs []poolpilot.CriterionSpec) ([]poolpilot.CriterionSpec, []skippedCriterion, error) {
	kept, unfed, err := w.set.Split(specs)
	if err != nil {
		return nil, nil, err
	}
	var skipped []skippedCriterion
	var errs []error
	for _, u := range unfed {
		skipped = append(skipped, skippedCriterion{Name: u.Name, Metric: u.Metric, Reason: u.Reason})
		errs = append(errs, fmt.Errorf("criterion %q: metric %s cannot be watched: %s", u.Name, u.Metric, u.Reason))
	}
	if w.explicit && len(errs) > 0 {
		return nil, nil, poolpilot.BadInput("%v", errors.Join(errs...))
	}
	if len(kept) == 0 {
		return nil, nil, poolpilot.BadInput("no criterion can be watched with the sources given: %v", errors.Join(errs...))
	}
	return kept, skipped, nil
}

// loadCriteriaFile reads a YAML list of criteria, strictly: unknown keys
// and wrong types are refused with their line.
func loadCriteriaFile(path string) ([]poolpilot.CriterionSpec, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, poolpilot.BadInput("--criteria: %v", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, 1<<20))
	if err != nil {
		return nil, poolpilot.BadInput("--criteria %s: %v", path, err)
	}
	return parseCriteriaYAML(path, data)
}

func parseCriteriaYAML(name string, data []byte) ([]poolpilot.CriterionSpec, error) {
	if strings.TrimSpace(string(data)) == "" {
		return nil, poolpilot.BadInput("--criteria %s: empty: write a YAML list of criteria (name, expr, role, …)", name)
	}
	var specs []poolpilot.CriterionSpec
	if err := yaml.UnmarshalWithOptions(data, &specs, yaml.Strict()); err != nil {
		return nil, poolpilot.BadInput("--criteria %s: %s", name, yaml.FormatError(err, false, true))
	}
	if len(specs) == 0 {
		return nil, poolpilot.BadInput("--criteria %s: no criterion in the list", name)
	}
	if err := criteria.Validate(specs); err != nil {
		return nil, poolpilot.BadInput("--criteria %s: %v", name, err)
	}
	return specs, nil
}
