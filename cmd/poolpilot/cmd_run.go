package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/runner"
)

func init() { commands = append(commands, newRunCmd) }

type runFlags struct {
	resume, evidenceDir, signingKey, reason string
	dashboard, dashboardTokenEnv            string
	dashboardMetricsTokenEnv                string
	dryRun, overrideWindow, json, progress  bool
}

func newRunCmd(e *env) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run PLAN",
		Short: "Execute a pool change end to end: preflight, approval, window, baseline, apply, verify, load test, soak, rollback",
		Long: `run executes the plan through its states: preflight → awaiting-approval →
approved (change window) → baseline → applying → verifying → load-test →
soak → succeeded, or, once anything changed, rolling-back → rolled-back
(rollback-failed pages loudly). Every transition is journalled (fsynced)
before its side effect and audited in the evidence folder
<evidence.dir>/<plan name>/<run id>/, which is closed with the report at the
end; its head hash is printed.

A rollback trigger that fires (a P0 at once) rolls back by itself; so does a
success criterion that fails during the soak (see docs/run.md). 'poolpilot
rollback DIR --reason TEXT' rolls back by hand. Ctrl-C on a terminal asks:
continue, roll back or leave as is; without a terminal it rolls back.
--resume DIR continues a run after a crash from its journal.

--dry-run runs the preflight, then prints every step and the exact change
per instance, and changes nothing.

Exit status: 0 succeeded, 3 rolled back, 4 refused (preflight, approval,
change window), 2 bad input, 1 internal error or rollback failed (with a PAGE
line on stderr).`,
		Example: `  POOLPILOT_ADMIN_TOKEN=… DATABASE_URL=… poolpilot run phase1.yaml
  poolpilot run phase1.yaml --dry-run
  poolpilot run phase1.yaml --override-window --reason "INC-42: pool exhaustion now"
  poolpilot run phase1.yaml --resume launch/evidence/phase1_pool_scaling/20260201T020000Z-a1b2c3
  poolpilot run phase1.yaml --json --progress 2>progress.log | jq .state`,
		Args: exactArgs(1, "PLAN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), e, args[0], f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.resume, "resume", "", "continue the run in `DIR` (its evidence folder) from its journal")
	fl.BoolVar(&f.dryRun, "dry-run", false, "preflight, then print every step and change; change nothing")
	fl.BoolVar(&f.overrideWindow, "override-window", false, "run outside the plan's change window (needs --reason; recorded)")
	fl.StringVar(&f.reason, "reason", "", "why the change window is overridden")
	fl.StringVar(&f.signingKey, "signing-key", "", "Ed25519 private key `FILE` (poolpilot evidence keygen) that signs the audit head")
	fl.StringVar(&f.evidenceDir, "evidence-dir", "", "put the run folder under `DIR`/<plan name>/ instead of the plan's evidence.dir (approvals and ticks are still read from evidence.dir)")
	fl.BoolVar(&f.json, "json", false, "print the outcome as JSON on stdout")
	fl.BoolVar(&f.progress, "progress", false, "a progress line per evaluation on stderr (default on a terminal)")
	fl.StringVar(&f.dashboard, "dashboard", "", "serve the run's live dashboard on `HOST:PORT` (e.g. 127.0.0.1:8090; see docs/dashboard.md)")
	fl.StringVar(&f.dashboardTokenEnv, "dashboard-token-env", "", "enable the dashboard's rollback button with the token in `VAR`")
	fl.StringVar(&f.dashboardMetricsTokenEnv, "dashboard-metrics-token-env", "", "serve the dashboard's /metrics to the bearer token in `VAR` (default: the --dashboard-token-env token)")
	return c
}

func runRun(ctx context.Context, e *env, planPath string, f runFlags) error {
	if f.overrideWindow && strings.TrimSpace(f.reason) == "" {
		return poolpilot.BadInput("--override-window needs --reason TEXT: say why the change cannot wait for its window")
	}
	if !f.overrideWindow && f.reason != "" {
		return poolpilot.BadInput("--reason is only for --override-window")
	}
	run, err := assemble.Load(planPath, f.evidenceDir, e.getenv)
	if err != nil {
		return err
	}
	run.Version = buildVersion().Version
	p := run.Plan
	if f.resume == "" { // a resumed run may need to finish a rollback whatever the environment
		if err := requireDSN(e, p); err != nil {
			return err
		}
		if err := checkAutoSteps(e, p); err != nil {
			return err
		}
	}
	if f.dryRun {
		return dryRun(ctx, e, run)
	}
	if f.resume != "" {
		if err := samePlan(p, f.resume); err != nil {
			return err
		}
	}
	o := runner.Options{Run: run, ResumeDir: f.resume, Log: e.stderr,
		Operator: runner.Operator{Name: operator(e), OverrideWindow: f.overrideWindow, OverrideReason: f.reason}}
	if f.signingKey != "" {
		if o.Operator.SigningKey, err = evidence.LoadPrivateKey(f.signingKey); err != nil {
			return poolpilot.BadInput("--signing-key: %v", err)
		}
	}
	if f.progress || isTerminal(e.stderr) {
		o.Progress = e.stderr
	}
	if f.dashboard != "" {
		stopDash, err := startRunDashboard(ctx, e, f.dashboard, f.dashboardTokenEnv, f.dashboardMetricsTokenEnv, &o)
		if err != nil {
			return err
		}
		defer stopDash()
	}
	intr, stop := interrupts(ctx)
	defer stop()
	o.Interactive.Interrupts = intr
	if isTerminal(e.stdin) && isTerminal(e.stderr) {
		o.Interactive.Ask = askOperator(e)
	}
	res, err := runner.Run(ctx, o)
	return reportRun(e, res, err, f.json)
}

func operator(e *env) string {
	if u := e.getenv("USER"); u != "" {
		return u
	}
	return "operator"
}

// reportRun prints the outcome and maps it to the exit status.
func reportRun(e *env, res runner.Result, err error, asJSON bool) error {
	if res.RunID == "" && err != nil {
		return err // nothing started: bad input or no folder
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		fmt.Fprintf(e.stdout, "plan %s: %s", res.Plan, res.State)
		if res.Reason != "" {
			fmt.Fprintf(e.stdout, " (%s)", res.Reason)
		}
		fmt.Fprintf(e.stdout, "\nevidence: %s\n", res.Dir)
		if res.Report != "" {
			fmt.Fprintf(e.stdout, "report:   %s\n", res.Report)
		}
		if res.Head != "" {
			fmt.Fprintf(e.stdout, "audit head: %s\n", res.Head)
		}
	}
	if err != nil {
		return &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: fmt.Errorf("%w; continue with: poolpilot run PLAN --resume %s, or roll back with: poolpilot rollback %s --reason TEXT", err, res.Dir, res.Dir)}
	}
	switch res.State {
	case change.StateSucceeded, change.StateSettled:
		return nil
	case change.StateRolledBack:
		return &poolpilot.ExitError{Code: poolpilot.ExitFailed, Err: fmt.Errorf("rolled back: %s", res.Reason)}
	case change.StateRefused:
		return &poolpilot.ExitError{Code: poolpilot.ExitRefused, Err: fmt.Errorf("refused: %s", res.Reason)}
	case change.StateRollbackFailed:
		fmt.Fprintf(e.stderr, "PAGE: ROLLBACK FAILED for plan %s: %s; instances may be at an unknown pool size: evidence %s\n", res.Plan, res.Reason, res.Dir)
		return &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: fmt.Errorf("rollback failed: %s", res.Reason)}
	}
	return &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: fmt.Errorf("run ended in %s", res.State)}
}

// interrupts turns the end of ctx (the first Ctrl-C) and later SIGINTs
// into interrupt events.
func interrupts(ctx context.Context) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		ch <- struct{}{}
		for {
			select {
			case <-sig:
				select {
				case ch <- struct{}{}:
				default:
				}
			case <-done:
				return
			}
		}
	}()
	return ch, func() { signal.Stop(sig); close(done) }
}

func askOperator(e *env) func() string {
	in := bufio.NewReader(e.stdin)
	return func() string {
		fmt.Fprint(e.stderr, "\ninterrupted: [c]ontinue, [r]oll back, or [l]eave as is? ")
		line, err := in.ReadString('\n')
		if err != nil && err != io.EOF {
			return "rollback"
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "c", "continue":
			return "continue"
		case "l", "leave", "leave as is":
			return "leave"
		}
		return "rollback"
	}
}

// isTerminal reports whether v (a reader or writer) is a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// dryRun runs the preflight and prints every step and change.
func dryRun(ctx context.Context, e *env, run *assemble.Run) error {
	p, planDir := run.Plan, run.PlanDir
	rep := run.RunPreflight(ctx)
	printPreflight(e.stdout, rep)
	w := e.stdout
	fmt.Fprintf(w, "\ndry run of plan %s (sha256 %s…): nothing is changed\n", p.Name, p.SHA256()[:12])
	_, aerr := change.CheckApprovals(planDir, p)
	step := 0
	say := func(format string, a ...any) { step++; fmt.Fprintf(w, "%2d. %s\n", step, fmt.Sprintf(format, a...)) }
	say("preflight: %s", map[bool]string{true: "ready", false: "REFUSED"}[rep.OK])
	if aerr != nil {
		say("approval: REFUSED: %v", aerr)
	} else {
		say("approval: %d required, present and bound to this plan", p.Approvals.Required)
	}
	in, _ := p.Window.Contains(time.Now())
	say("change window %s: now %s", p.Window, map[bool]string{true: "inside", false: "OUTSIDE (run needs --override-window --reason)"}[in])
	say("baseline: %s of measurements, pre-change evidence files", p.Baseline.Duration)
	if p.Stepped() {
		var sizes []string
		for _, st := range p.Change.Steps {
			sizes = append(sizes, fmt.Sprintf("%d:%d", st.Max, st.Min))
		}
		say("staircase: steps %s, each applied and verified as below (at its own size), load-tested and watched for %s; a step whose p95 rises more than %.0f%% (and 20 ms) or whose throughput falls more than %.0f%%, or that fails, stops the climb: settle at the best step seen (roll back if it is the first)",
			strings.Join(sizes, " → "), p.StepSoak(), 100*p.Step.StopWhen.P95Increase, 100*p.Step.StopWhen.ThroughputDrop)
	}
	say("apply with the %s driver, %d instance(s) at a time:", p.Driver, p.Rollout.BatchSize)
	d, err := run.BuildDriver()
	var ue *driver.UnreachableError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "      cannot reach the %s: %v\n", ue.What, ue.Err)
	} else if err != nil {
		return err
	}
	for _, inst := range p.Instances {
		for _, line := range changeLines(ctx, d, inst, p.Change.To) {
			fmt.Fprintf(w, "      %s\n", line)
		}
	}
	say("verify: every /healthz shows max %d min %d within %s", p.Change.To.Max, p.Change.To.Min, p.Rollout.VerifyTimeout)
	say("load test: workload %s at %g/s for %s", p.LoadTest.Workload, p.LoadTest.Rate, p.LoadTest.Duration)
	say("soak: %s (background load %g/s), %d criteria evaluated every %s", p.Soak.Duration, p.Soak.Rate, len(p.Criteria), p.Evaluation.Interval)
	say("on a trigger or a failed success criterion, roll back to max %d min %d:", p.Change.From.Max, p.Change.From.Min)
	for _, inst := range p.Instances {
		for _, line := range changeLines(ctx, d, inst, p.Change.From) {
			fmt.Fprintf(w, "      %s\n", line)
		}
	}
	if !rep.OK {
		return &poolpilot.ExitError{Code: poolpilot.ExitRefused, Err: fmt.Errorf("preflight refused plan %s: %d check(s) failed", p.Name, len(rep.Failed()))}
	}
	return nil
}

// changeLines is the exact change a driver makes on one instance.
func changeLines(ctx context.Context, d change.Driver, inst plan.Instance, size plan.PoolSize) []string {
	if ds, ok := d.(driver.Describer); ok {
		return ds.DescribeChange(ctx, inst, size)
	}
	return []string{fmt.Sprintf("%s: set DB_POOL_MAX=%d DB_POOL_MIN=%d (driver %s)", inst.Name, size.Max, size.Min, d.Name())}
}

// samePlan refuses to resume a run with another plan than the one it ran.
func samePlan(p *plan.Plan, runDir string) error {
	raw, err := os.ReadFile(filepath.Join(runDir, evidence.FilePlan))
	if err != nil {
		return poolpilot.BadInput("--resume %s: not a run folder: %v", runDir, err)
	}
	ran, err := plan.Parse(raw)
	if err != nil {
		return poolpilot.BadInput("--resume %s: its plan.yaml: %v", runDir, err)
	}
	if ran.SHA256() != p.SHA256() {
		return poolpilot.BadInput("--resume %s: the run ran plan sha256 %s…, this plan is %s…: resume with the plan it ran", runDir, ran.SHA256()[:12], p.SHA256()[:12])
	}
	return nil
}
