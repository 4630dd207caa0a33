package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/runner"
)

func init() { commands = append(commands, newRollbackCmd) }

func newRollbackCmd(e *env) *cobra.Command {
	var reason, by string
	var wait time.Duration
	var asJSON bool
	c := &cobra.Command{
		Use:   "rollback DIR --reason TEXT",
		Short: "Roll a run back to the plan's change.from, by hand",
		Long: `rollback restores change.from on every instance the run in DIR (its evidence
folder) touched, verifies it and records who asked and why.

When a live 'poolpilot run' holds the run (its lock in DIR.run/), rollback
asks it to roll back (DIR.run/rollback.request) and waits for it to report
rolled-back. If that run dies first (its lock is released before it
reaches an end), or when no process holds it (the run crashed or was left
as is), rollback does it itself from the journal with the plan saved in the folder
(plan.yaml) and its driver, then closes the folder with its report.

Exit status: 0 rolled back, 1 rollback failed (PAGE line) or no answer, 2 bad
input (no such run, the run already ended).`,
		Example: `  poolpilot rollback launch/evidence/phase1_pool_scaling/20260201T020000Z-a1b2c3 --reason "p99 alarms from payments"`,
		Args:    exactArgs(1, "DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return poolpilot.BadInput("--reason is required: say why you roll back")
			}
			if by == "" {
				by = operator(e)
			}
			return runRollback(cmd.Context(), e, filepath.Clean(args[0]), by, reason, wait, asJSON)
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit log)")
	c.Flags().StringVar(&by, "by", "", "who asks (default $USER)")
	c.Flags().DurationVar(&wait, "wait", 15*time.Minute, "how long to wait for a live run to finish its rollback")
	c.Flags().BoolVar(&asJSON, "json", false, "print the outcome as JSON")
	return c
}

func runRollback(ctx context.Context, e *env, dir, by, reason string, wait time.Duration, asJSON bool) error {
	if _, err := os.Stat(filepath.Join(dir, evidence.FileAudit)); err != nil {
		return poolpilot.BadInput("%s is not a run folder (no %s)", dir, evidence.FileAudit)
	}
	if _, err := os.Stat(filepath.Join(dir, evidence.FileHead)); err == nil {
		st := lastState(dir)
		return poolpilot.BadInput("the run in %s has ended (%s): to undo a finished change, run a plan from its 'to' back to its 'from'", dir, st)
	}
	lock, err := runner.TryLock(dir)
	if errors.Is(err, runner.ErrLocked) {
		return requestRollback(ctx, e, dir, by, reason, wait, asJSON)
	}
	if err != nil {
		return err
	}
	lock.Release() // runner.Run takes it again
	return rollbackHere(ctx, e, dir, by, reason, asJSON)
}

// rollbackHere rolls back a run that no live process holds, from its
// journal, with the plan saved in the folder and the plan's driver.
func rollbackHere(ctx context.Context, e *env, dir, by, reason string, asJSON bool) error {
	raw, err := os.ReadFile(filepath.Join(dir, evidence.FilePlan))
	if err != nil {
		return poolpilot.BadInput("%s: %v", dir, err)
	}
	p, err := plan.Parse(raw)
	if err != nil {
		return poolpilot.BadInput("%s/plan.yaml: %v", dir, err)
	}
	// Driver nil: runner.Run builds the plan's driver, with its retries.
	run := &assemble.Run{Plan: p, PlanYAML: raw, PlanDir: filepath.Dir(dir), Getenv: e.getenv, Version: buildVersion().Version}
	o := runner.Options{Run: run, ResumeDir: dir, Log: e.stderr,
		Operator: runner.Operator{Name: by, RollbackOnly: true, RollbackBy: by, RollbackReason: reason}}
	res, err := runner.Run(ctx, o)
	return reportRun(e, res, err, asJSON)
}

// lastState reads the run's last state from its journal.
func lastState(dir string) change.State {
	j, err := change.OpenJournal(runner.ControlDir(dir))
	if err != nil {
		return "unknown"
	}
	defer j.Close()
	return change.ReplayRecords(j.Records()).State
}

// requestRollback asks the live run and waits for its outcome. When the
// run's lock is released before the run reached a terminal state (the
// process died), it finishes the rollback itself.
func requestRollback(ctx context.Context, e *env, dir, by, reason string, wait time.Duration, asJSON bool) error {
	if err := runner.WriteRequest(dir, runner.Request{By: by, Reason: reason, Time: time.Now().UTC()}); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "asked the live run of %s to roll back; waiting up to %s\n", dir, wait)
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if done, err := liveOutcome(e, dir); done {
			return err
		}
		if lock, err := runner.TryLock(dir); err == nil {
			lock.Release()
			// It may have ended between the two looks.
			if done, err := liveOutcome(e, dir); done {
				return err
			}
			fmt.Fprintf(e.stderr, "the run holding %s died (lock released); finishing the rollback here\n", dir)
			_ = os.Remove(filepath.Join(runner.ControlDir(dir), runner.RequestFile)) // asked of a dead run
			return rollbackHere(ctx, e, dir, by, reason, asJSON)
		}
		select {
		case <-ctx.Done():
			return &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: fmt.Errorf("stopped waiting (the request stands): %w", ctx.Err())}
		case <-time.After(200 * time.Millisecond):
		}
	}
	return &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: fmt.Errorf("the live run did not report rolled-back within %s", wait)}
}

// liveOutcome reports whether the live run reached a terminal state, and
// what rollback then returns.
func liveOutcome(e *env, dir string) (bool, error) {
	st := lastState(dir)
	switch st {
	case change.StateRolledBack:
		fmt.Fprintf(e.stdout, "rolled back: %s\n", dir)
		return true, nil
	case change.StateRollbackFailed:
		fmt.Fprintf(e.stderr, "PAGE: ROLLBACK FAILED for %s\n", dir)
		return true, &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: errors.New("rollback failed: see " + dir)}
	case change.StateRefused, change.StateSucceeded, change.StateSettled:
		fmt.Fprintf(e.stdout, "the run ended in %s before any change needed undoing\n", st)
		return true, nil
	}
	return false, nil
}
