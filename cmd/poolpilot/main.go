// Command poolpilot right-sizes and safely changes the connection pools of
// services running on PostgreSQL, and proves what happened.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/poolpilot/poolpilot"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(poolpilot.ExitCode(err))
}
