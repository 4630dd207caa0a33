package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/ledger/service"
)

const usage = `usage: ledgerd

ledgerd takes no arguments; it is configured through the environment:
  DATABASE_URL                 PostgreSQL URL (required)
  DB_POOL_MAX, DB_POOL_MIN     pool size (defaults 200, 20)
  DB_POOL_IDLE_TIMEOUT, DB_POOL_CONNECTION_TIMEOUT, DB_POOL_MAX_LIFETIME,
  DB_POOL_HEALTH_CHECK_PERIOD  milliseconds (30000) or Go durations (30s)
  DB_POOL_POOLER               "transaction" behind PgBouncer in transaction mode
  LEDGERD_ADDR                 listen address (default 127.0.0.1:8080; port 0 picks one)
  POOLPILOT_ADMIN_TOKEN        bearer token; enables PUT /admin/pool and /admin/faults
  LEDGERD_LOG_LEVEL            debug, info (default), warn or error
  LEDGERD_SHUTDOWN_TIMEOUT     how long SIGTERM waits for in-flight requests (default 30s)

On start it prints "listening addr=HOST:PORT" on stdout. Logs are JSON on stderr.
Exit status: 0 clean shutdown, 2 invalid configuration, 1 other failure.
`

// run is ledgerd without the process globals: it returns when ctx is
// cancelled (SIGTERM/SIGINT in main) after a graceful shutdown, or on error.
// Errors carry their exit status (poolpilot.ExitCode).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return nil
		}
		return poolpilot.BadInput("unexpected argument %q: ledgerd takes no arguments, only environment variables (ledgerd --help)", args[0])
	}
	cfg, err := service.LoadConfig(getenv)
	if err != nil {
		return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if cfg.AddrWarning != "" {
		fmt.Fprintln(stderr, "ledgerd:", cfg.AddrWarning) // for humans, besides the JSON line
		logger.Warn(cfg.AddrWarning, "addr", cfg.Addr)
	}
	srv, err := service.Start(ctx, cfg, service.Options{Logger: logger})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted while starting: %w", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "listening addr=%s\n", srv.Addr())
	select {
	case <-ctx.Done():
		logger.Info("signal received: shutting down", "timeout", cfg.ShutdownTimeout.String())
	case <-srv.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	return errors.Join(srv.Err(), shutdownErr)
}
