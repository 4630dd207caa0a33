package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/dashboard"
	"github.com/poolpilot/poolpilot/httpapi"
	"github.com/poolpilot/poolpilot/runner"
)

func init() { commands = append(commands, newServeCmd) }

// DefaultDashboardAddr is where the dashboard listens by default.
const DefaultDashboardAddr = "127.0.0.1:8090"

func newServeCmd(e *env) *cobra.Command {
	var addr, tokenEnv string
	c := &cobra.Command{
		Use:   "serve EVIDENCE_DIR",
		Short: "Serve the dashboard of the runs in an evidence folder, read-only",
		Long: `serve shows every run folder under EVIDENCE_DIR (<dir>/<plan>/<run-id>/, or a
plan folder, or one run folder) in the browser: a list of runs, and each
run's page — plan, states, criteria with their final values and verdicts,
charts of latency p95, error rate, pool utilization and wait p95, instances,
the event timeline, the evidence files and the report rendered on demand —
with the result of 'evidence verify'. Nothing is written.

A run still in progress in another poolpilot process is shown from its
folder and refreshed as its audit log grows; with --token-env, its page can
ask it to roll back (the same request as 'poolpilot rollback DIR'), with the
token as a bearer token and a reason. A finished run cannot be rolled back
(409).

The dashboard binds loopback by default; any other address prints a loud
warning. Ctrl-C stops it. See docs/dashboard.md.

Exit status: 0 stopped by Ctrl-C; 2 bad input (no such folder, bad
address, token variable unset or too short); 1 the address is in use.`,
		Example: `  poolpilot serve launch/evidence
  poolpilot serve launch/evidence/phase1_pool_scaling --addr 127.0.0.1:9000
  POOLPILOT_DASHBOARD_TOKEN=$(openssl rand -hex 16) poolpilot serve launch/evidence --token-env POOLPILOT_DASHBOARD_TOKEN`,
		Args: exactArgs(1, "EVIDENCE_DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), e, args[0], addr, tokenEnv)
		},
	}
	c.Flags().StringVar(&addr, "addr", DefaultDashboardAddr, "listen on `HOST:PORT` (loopback unless you mean it)")
	c.Flags().StringVar(&tokenEnv, "token-env", "", "enable manual rollback of live runs with the token in environment variable `VAR`")
	return c
}

func runServe(ctx context.Context, e *env, dir, addr, tokenEnv string) error {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return poolpilot.BadInput("EVIDENCE_DIR %s: not a folder: give the evidence dir of a plan (evidence.dir) or a run folder", dir)
	}
	token, err := dashboardToken(e, tokenEnv, "--token-env")
	if err != nil {
		return err
	}
	hub, err := dashboard.NewHub(dashboard.Options{EvidenceDir: dir, Token: token, Rollback: dashboardRollback,
		Foreign: runHeldElsewhere, Log: e.stderr})
	if err != nil {
		return poolpilot.BadInput("%v", err)
	}
	defer hub.Close()
	url, stop, err := serveDashboard(ctx, e, addr, hub)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(e.stderr, "dashboard: %s (runs under %s; read-only%s); Ctrl-C stops it\n", url, filepath.Clean(dir),
		map[bool]string{true: ", manual rollback of live runs with the token", false: ""}[token != ""])
	<-ctx.Done()
	return nil
}

// dashboardToken reads the token from the variable named by flag ("" when
// the flag is not given).
func dashboardToken(e *env, name, flag string) (string, error) {
	if name == "" {
		return "", nil
	}
	tok := strings.TrimSpace(e.getenv(name))
	if tok == "" {
		return "", poolpilot.BadInput("%s %s: the variable is not set: export %s=<a random token of 16+ characters>", flag, name, name)
	}
	if len(tok) < 16 {
		return "", poolpilot.BadInput("%s %s: the token is %d characters: use 16 or more (openssl rand -hex 16)", flag, name, len(tok))
	}
	return tok, nil
}

// serveDashboard listens on addr (warning loudly off loopback) and serves
// the hub until stop or ctx ends. It returns the page's URL.
func serveDashboard(ctx context.Context, e *env, addr string, hub *dashboard.Hub) (string, func(), error) {
	warn, err := httpapi.CheckListenAddr(addr)
	if err != nil {
		return "", nil, poolpilot.BadInput("--addr: %v", err)
	}
	if warn != "" {
		fmt.Fprintf(e.stderr, "WARNING: the dashboard listens on %s, not loopback: anyone who can reach it sees the runs "+
			"(and, with a token, can ask a live run to roll back); bind to %s unless a firewall or proxy protects it\n", addr, DefaultDashboardAddr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, &poolpilot.ExitError{Code: poolpilot.ExitInternal, Err: fmt.Errorf("dashboard: listen on %s: %w", addr, err)}
	}
	srv := &http.Server{Handler: hub.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(e.stderr, "dashboard: %v\n", err)
		}
	}()
	stop := func() {
		hub.Drain(3 * time.Second) // open pages get the run's final state
		hub.Close()                // ends the SSE streams
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}
	return "http://" + ln.Addr().String() + "/", stop, nil
}

// dashboardRollback asks the live run of dir to roll back (poolpilot
// rollback's request file, acted on within 250 ms).
func dashboardRollback(dir, by, reason string) error {
	return runner.WriteRequest(dir, runner.Request{By: by, Reason: reason, Time: time.Now().UTC()})
}

// runHeldElsewhere reports whether a live process holds dir's run lock.
func runHeldElsewhere(dir string) bool {
	if _, err := os.Stat(runner.ControlDir(dir)); err != nil {
		return false
	}
	l, err := runner.TryLock(dir)
	if errors.Is(err, runner.ErrLocked) {
		return true
	}
	if err == nil {
		l.Release()
	}
	return false
}

// startRunDashboard serves the live dashboard of the run o is about to
// start (poolpilot run --dashboard ADDR): its Observer feeds the page.
func startRunDashboard(ctx context.Context, e *env, addr, tokenEnv, metricsTokenEnv string, o *runner.Options) (func(), error) {
	token, err := dashboardToken(e, tokenEnv, "--dashboard-token-env")
	if err != nil {
		return nil, err
	}
	metricsToken, err := dashboardToken(e, metricsTokenEnv, "--dashboard-metrics-token-env")
	if err != nil {
		return nil, err
	}
	var secrets []string
	add := func(name string) {
		if v := e.getenv(name); name != "" && len(v) >= 4 {
			secrets = append(secrets, v)
		}
	}
	for _, in := range o.Run.Plan.Instances {
		add(in.AdminTokenEnv)
	}
	add(o.Run.Plan.Database.DSNEnv)
	add(o.Run.Plan.Notify.WebhookEnv)
	add(o.Run.Plan.Notify.PagerDutyRoutingKeyEnv)
	add(o.Run.Plan.Notify.EventsWebhookEnv)
	hub, err := dashboard.NewHub(dashboard.Options{Token: token, MetricsToken: metricsToken, Rollback: dashboardRollback, Secrets: secrets, Log: e.stderr})
	if err != nil {
		return nil, poolpilot.BadInput("%v", err)
	}
	url, stop, err := serveDashboard(ctx, e, addr, hub)
	if err != nil {
		hub.Close()
		return nil, err
	}
	o.Observer = hub.Live()
	fmt.Fprintf(e.stderr, "dashboard: %s (the run's page appears there when it starts%s%s)\n", url,
		map[bool]string{true: "; rollback button enabled with the token", false: ""}[token != ""],
		map[bool]string{true: "; /metrics for Prometheus with a bearer token", false: ""}[token != "" || metricsToken != ""])
	return stop, nil
}
