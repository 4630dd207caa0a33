// Command ledgerd is poolpilot's reference service: a small multi-tenant
// double-entry ledger on PostgreSQL, built on the instrumented pool, with
// /healthz, /metrics, PUT /admin/pool and fault injection for drills.
//
// It is configured only through the environment: DATABASE_URL, DB_POOL_*
// (see pgpool), LEDGERD_ADDR (default 127.0.0.1:8080), POOLPILOT_ADMIN_TOKEN
// (enables /admin/*), LEDGERD_LOG_LEVEL (debug|info|warn|error) and
// LEDGERD_SHUTDOWN_TIMEOUT (default 30s). Exit status: 0 after a clean
// shutdown (SIGTERM/SIGINT), 2 on invalid configuration (before any
// connection is opened), 1 on any other failure.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/poolpilot/poolpilot"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ledgerd:", err)
	}
	os.Exit(poolpilot.ExitCode(err))
}
