package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
)

// env is what every command body gets instead of the process globals, so
// that commands are testable in-process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// commands holds the constructors of the top-level subcommands; each
// cmd_*.go file appends its own in an init function. They are constructors,
// not commands, so every run builds a fresh command tree.
var commands []func(*env) *cobra.Command

// run executes the CLI with args and returns an error carrying the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ran := false
	root.PersistentPreRun = func(*cobra.Command, []string) { ran = true }
	err := root.ExecuteContext(ctx)
	if err == nil {
		return nil
	}
	var ee *poolpilot.ExitError
	if !ran && !errors.As(err, &ee) {
		// cobra's own parsing failed: unknown command, bad flag, wrong args.
		err = &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
	}
	msg := err.Error()
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	fmt.Fprint(stderr, "poolpilot: "+msg)
	if !ran {
		fmt.Fprintln(stderr, "Run 'poolpilot --help' for usage.")
	}
	return err
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "poolpilot",
		Short: "Right-size and safely change PostgreSQL connection pools, and prove what happened",
		Long: `poolpilot right-sizes and safely changes the connection pools of services
running on PostgreSQL, and proves what happened: it plans, preflights, applies,
load-tests, soaks, rolls back by itself when a trigger holds, and leaves a
tamper-evident evidence folder and a report.`,
		Example: `  poolpilot demo
  poolpilot load http --url http://127.0.0.1:8080/healthz --rate 200 --duration 10s`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	for _, mk := range commands {
		root.AddCommand(mk(e))
	}
	addCompletions(root)
	return root
}
