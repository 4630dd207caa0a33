package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/ledger/service"
	"github.com/poolpilot/poolpilot/loadgen"
)

func init() { commands = append(commands, newDemoCmd) }

// demoFlags are the knobs of `poolpilot demo`.
type demoFlags struct {
	rate           float64
	duration       time.Duration
	tenants        int
	accounts       int
	poolMax        int
	poolMin        int
	maxConnections int
	seed           uint64
	keep           bool
	json           bool
	logLevel       string
}

// demoReport is what `poolpilot demo --json` prints.
type demoReport struct {
	OK          bool                   `json:"ok"`
	Summary     string                 `json:"summary"`
	LedgerdURL  string                 `json:"ledgerd_url"`
	DatabaseURL string                 `json:"database_url"`
	Health      json.RawMessage        `json:"healthz"`
	Integrity   ledger.IntegrityReport `json:"integrity"`
	Load        *loadgen.Report        `json:"load"`
}

func newDemoCmd(e *env) *cobra.Command {
	f := &demoFlags{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start PostgreSQL and ledgerd locally, send a burst of ledger traffic, show /healthz",
		Long: `demo runs poolpilot's reference service on this machine with no setup: it starts
an ephemeral PostgreSQL from the local server binaries, starts ledgerd in-process
on a free loopback port with DB_POOL_MAX=10 and DB_POOL_MIN=2 (the seed's
starting point, the pg driver's default), sends a short open-model burst of
checking ledger traffic across several tenants (posts, balances, trial balances,
cross-tenant reads), prints ledgerd's /healthz and a one-line summary, checks
GET /v1/integrity, and stops everything (--keep leaves it running until Ctrl-C).

Progress goes to stderr, the report to stdout. Exit status: 0 when every request
succeeded and the ledger is intact, 3 when a request failed, the workload saw a
correctness violation or the integrity check failed, 2 on bad flags, 1 when
PostgreSQL or ledgerd could not start.`,
		Example: `  poolpilot demo
  poolpilot demo --rate 200 --duration 5s --tenants 10
  poolpilot demo --keep          # then: curl -s http://127.0.0.1:PORT/healthz
  poolpilot demo --json | jq .healthz.pool`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			return runDemo(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&f.rate, "rate", 100, "requests per second of the burst (open model)")
	fl.DurationVar(&f.duration, "duration", 3*time.Second, "length of the burst")
	fl.IntVar(&f.tenants, "tenants", 5, "tenants the traffic is spread across")
	fl.IntVar(&f.accounts, "accounts", 4, "checked accounts per tenant")
	fl.IntVar(&f.poolMax, "pool-max", 10, "ledgerd's DB_POOL_MAX")
	fl.IntVar(&f.poolMin, "pool-min", 2, "ledgerd's DB_POOL_MIN")
	fl.IntVar(&f.maxConnections, "max-connections", 100, "max_connections of the ephemeral PostgreSQL (PostgreSQL's default)")
	fl.Uint64Var(&f.seed, "seed", 0, "random seed of the traffic (0: random)")
	fl.BoolVar(&f.keep, "keep", false, "leave PostgreSQL and ledgerd running until Ctrl-C")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON (healthz, load report, integrity)")
	fl.StringVar(&f.logLevel, "log-level", "warn", "ledgerd's log level on stderr: debug, info, warn or error")
	return cmd
}

func (f *demoFlags) validate() error {
	var lvl slog.Level
	switch {
	case f.rate <= 0 || f.rate > 5000:
		return poolpilot.BadInput("--rate %v: use 1 to 5000 requests per second", f.rate)
	case f.duration < 100*time.Millisecond || f.duration > 10*time.Minute:
		return poolpilot.BadInput("--duration %v: use 100ms to 10m", f.duration)
	case f.tenants < 2 || f.tenants > 1000:
		return poolpilot.BadInput("--tenants %d: use 2 to 1000", f.tenants)
	case f.accounts < 1 || f.accounts > 100:
		return poolpilot.BadInput("--accounts %d: use 1 to 100", f.accounts)
	case f.maxConnections < 10 || f.maxConnections > 10000:
		return poolpilot.BadInput("--max-connections %d: use 10 to 10000", f.maxConnections)
	case lvl.UnmarshalText([]byte(f.logLevel)) != nil:
		return poolpilot.BadInput("--log-level %q: use debug, info, warn or error", f.logLevel)
	}
	return nil // --pool-max/--pool-min are checked by ledgerd's own validation
}

// runDemo starts PostgreSQL and ledgerd, runs the burst, reports, and stops
// both (after Ctrl-C with --keep).
func runDemo(ctx context.Context, e *env, f *demoFlags) error {
	progress(e, "starting an ephemeral PostgreSQL (max_connections=%d)", f.maxConnections)
	db, err := pgtest.Start(ctx, pgtest.Options{Settings: map[string]string{"max_connections": strconv.Itoa(f.maxConnections)}})
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	defer db.Close()
	token := randomToken()
	ld, err := startDemoLedgerd(ctx, e, f, db.URL("postgres"), token)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		ld.Shutdown(sctx) //nolint:errcheck // best effort at exit
	}()
	progress(e, "ledgerd on %s (DB_POOL_MAX=%d, DB_POOL_MIN=%d)", ld.URL(), f.poolMax, f.poolMin)
	progress(e, "sending %v of ledger traffic at %v requests/s across %d tenants", f.duration, f.rate, f.tenants)
	rep, err := runDemoLoad(ctx, f, ld.URL())
	if err != nil {
		return err
	}
	out, err := collectDemoReport(ctx, ld.URL(), rep)
	if err != nil {
		return err
	}
	out.DatabaseURL = db.URL("postgres")
	if err := printDemoReport(e, f, out); err != nil {
		return err
	}
	if f.keep {
		progress(e, "--keep: ledgerd stays on %s (admin token %s), PostgreSQL on %s; Ctrl-C stops both", ld.URL(), token, out.DatabaseURL)
		<-ctx.Done()
		progress(e, "stopping")
		return nil
	}
	if !out.OK {
		return &poolpilot.ExitError{Code: poolpilot.ExitFailed, Err: errors.New("demo failed: " + out.Summary)}
	}
	return nil
}

func progress(e *env, format string, args ...any) {
	fmt.Fprintf(e.stderr, "==> "+format+"\n", args...)
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// startDemoLedgerd configures ledgerd exactly as its environment would.
func startDemoLedgerd(ctx context.Context, e *env, f *demoFlags, dbURL, token string) (*service.Server, error) {
	vars := map[string]string{
		"DATABASE_URL": dbURL, "DB_POOL_MAX": strconv.Itoa(f.poolMax), "DB_POOL_MIN": strconv.Itoa(f.poolMin),
		service.EnvAddr: "127.0.0.1:0", service.EnvAdminToken: token, service.EnvLogLevel: f.logLevel,
	}
	cfg, err := service.LoadConfig(func(k string) string { return vars[k] })
	if err != nil {
		return nil, poolpilot.BadInput("--pool-max/--pool-min: %v", err)
	}
	logger := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ld, err := service.Start(ctx, cfg, service.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("start ledgerd: %w", err)
	}
	return ld, nil
}

func runDemoLoad(ctx context.Context, f *demoFlags, url string) (*loadgen.Report, error) {
	client := loadgen.NewHTTPClient(64)
	defer client.CloseIdleConnections()
	api, err := loadgen.NewLedgerHTTP(url, client)
	if err != nil {
		return nil, err
	}
	w, err := loadgen.NewLedgerWorkload(api, loadgen.LedgerOptions{Tenants: f.tenants, Accounts: f.accounts, Seed: f.seed})
	if err != nil {
		return nil, poolpilot.BadInput("%v", err)
	}
	sched, err := loadgen.Constant(f.rate)
	if err != nil {
		return nil, poolpilot.BadInput("--rate: %v", err)
	}
	rep, err := loadgen.Run(ctx, loadgen.Config{Schedule: sched, Duration: f.duration, MaxInflight: 64, Timeout: 5 * time.Second}, w)
	if err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
	}
	rep.Workload = "ledger"
	return rep, nil
}

// collectDemoReport reads /healthz and /v1/integrity and writes the summary.
func collectDemoReport(ctx context.Context, url string, rep *loadgen.Report) (*demoReport, error) {
	out := &demoReport{LedgerdURL: url, Load: rep}
	raw, _, err := demoGet(ctx, url+"/healthz")
	if err != nil {
		return nil, err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("/healthz is not JSON: %w", err)
	}
	out.Health = bytes.TrimSpace(pretty.Bytes())
	var h poolpilot.Health
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("/healthz: %w", err)
	}
	iraw, status, err := demoGet(ctx, url+"/v1/integrity")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(iraw, &out.Integrity); err != nil {
		return nil, fmt.Errorf("/v1/integrity (%d): %w", status, err)
	}
	integrity := fmt.Sprintf("integrity ok (%d entries, %d tenants checked)", out.Integrity.CheckedEntries, out.Integrity.CheckedTenants)
	if !out.Integrity.OK {
		integrity = fmt.Sprintf("INTEGRITY FAILED (%d unbalanced entries, %d tenant imbalances, %d cross-tenant lines)",
			len(out.Integrity.UnbalancedEntries), len(out.Integrity.TenantImbalances), len(out.Integrity.CrossTenantLines))
	}
	out.OK = out.Integrity.OK && rep.Errors == 0 && rep.Violations == 0
	out.Summary = fmt.Sprintf("%d requests in %.1fs (%.0f/s), %d errors, %d violations, p95 %.1f ms; "+
		"pool max %d min %d, %d open, wait p95 %.2f ms; %s",
		rep.Requests, rep.DurationS, rep.AchievedRate, rep.Errors, rep.Violations, rep.LatencyMS.P95,
		h.Pool.Max, h.Pool.Min, h.Pool.Total, h.Pool.WaitP95MS, integrity)
	return out, nil
}

func demoGet(ctx context.Context, url string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return b, resp.StatusCode, err
}

func printDemoReport(e *env, f *demoFlags, out *demoReport) error {
	if f.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(e.stdout, "GET %s/healthz\n%s\n\n", out.LedgerdURL, out.Health)
	fmt.Fprintf(e.stdout, "demo: %s\n", out.Summary)
	return nil
}
