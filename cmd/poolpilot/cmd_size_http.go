package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/advisor"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/redact"
)

// MaxSizeClients caps the default concurrency of size --http's load.
const MaxSizeClients = 256

// sizeHTTPFlags are the flags of size --http.
type sizeHTTPFlags struct {
	http, adminURL, tokenEnv, healthURL, method, bodyFile string
	headers                                               []string
	clients                                               int
}

func (h *sizeHTTPFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&h.http, "http", "", "measure a running service instead of a Go client: drive this URL of the service while its own pool size is swept through its admin endpoint")
	fl.StringVar(&h.adminURL, "admin-url", "", "with --http: base URL of the service's admin endpoint (PUT {admin-url}/admin/pool)")
	fl.StringVar(&h.tokenEnv, "token-env", "POOLPILOT_ADMIN_TOKEN", "with --http: environment variable holding the admin endpoint's bearer token")
	fl.StringVar(&h.healthURL, "health-url", "", "with --http: the service's health document (default: --http's origin + /healthz)")
	fl.StringVar(&h.method, "method", "GET", "with --http: HTTP method of the driven request")
	fl.StringVar(&h.bodyFile, "body-file", "", "with --http: file whose content is the driven request's body")
	fl.StringArrayVar(&h.headers, "header", nil, "with --http: header 'Key: Value' of the driven request (repeatable)")
	fl.IntVar(&h.clients, "clients", 0, fmt.Sprintf("with --http: concurrent clients of the closed-loop load at every step (default 2× the largest pool size swept, at most %d)", MaxSizeClients))
}

// validateHTTP checks the flags of size --http that need no service.
func (f *sizeFlags) validateHTTP(cmd *cobra.Command) error {
	h := &f.h
	if h.http == "" {
		for _, n := range []string{"admin-url", "token-env", "health-url", "method", "body-file", "header", "clients"} {
			if cmd.Flags().Changed(n) {
				return poolpilot.BadInput("--%s applies only with --http URL (sizing a running service)", n)
			}
		}
		return nil
	}
	for _, n := range []string{"dsn-env", "workload", "query", "script", "plan"} {
		if cmd.Flags().Changed(n) {
			return poolpilot.BadInput("--%s does not apply with --http: the service's own pool and database are measured", n)
		}
	}
	if h.adminURL == "" {
		return poolpilot.BadInput("--admin-url is required with --http: give the base URL of the service's admin endpoint (PUT {admin-url}/admin/pool), e.g. http://127.0.0.1:8080")
	}
	for _, u := range []struct{ flag, v string }{{"--http", h.http}, {"--admin-url", h.adminURL}, {"--health-url", h.healthURL}} {
		if _, err := loadgen.ParseURL(u.v); u.v != "" && err != nil {
			return poolpilot.BadInput("%s: %v", u.flag, err)
		}
	}
	switch {
	case h.tokenEnv == "":
		return poolpilot.BadInput("--token-env is empty: name the variable holding the admin token")
	case cmd.Flags().Changed("clients") && (h.clients < 1 || h.clients > 10000):
		return poolpilot.BadInput("--clients %d must be between 1 and 10000", h.clients)
	}
	return nil
}

// openService reads the token, checks the service's health document and the
// driven request, and returns the pool and the target.
func (f *sizeFlags) openService(ctx context.Context, e *env) (*advisor.ServicePool, poolpilot.Health, loadgen.Target, error) {
	h := &f.h
	token := e.getenv(h.tokenEnv)
	if token == "" {
		return nil, poolpilot.Health{}, nil, poolpilot.BadInput("%s is empty: export the service's admin token (or name another variable with --token-env)", h.tokenEnv)
	}
	healthURL := h.healthURL
	if healthURL == "" {
		u, _ := url.Parse(h.http)
		healthURL = u.Scheme + "://" + u.Host + "/healthz"
	}
	sp := &advisor.ServicePool{AdminURL: h.adminURL, HealthURL: healthURL, Token: token}
	octx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	doc, err := sp.Health(octx)
	if err != nil {
		return nil, doc, nil, poolpilot.BadInput("cannot read the service's health document (give --health-url if it is not at --http's origin): %v", err)
	}
	// A resize to the current size checks the endpoint and the token before
	// anything changes.
	if err := sp.Resize(octx, doc.Pool.Max, doc.Pool.Min); err != nil {
		return nil, doc, nil, poolpilot.BadInput("the admin endpoint refused a resize to the current size (max %d, min %d): %v", doc.Pool.Max, doc.Pool.Min, err)
	}
	req := loadgen.HTTPRequest{Method: strings.ToUpper(h.method), URL: h.http, Header: http.Header{}}
	for _, s := range h.headers {
		k, v, err := loadgen.ParseHeader(s)
		if err != nil {
			return nil, doc, nil, poolpilot.BadInput("--header: %v", err)
		}
		req.Header.Add(k, v)
	}
	if h.bodyFile != "" {
		if req.Body, err = os.ReadFile(h.bodyFile); err != nil {
			return nil, doc, nil, poolpilot.BadInput("--body-file: %v", err)
		}
	}
	t, err := loadgen.NewHTTPTarget(req, loadgen.NewHTTPClient(MaxSizeClients))
	if err != nil {
		return nil, doc, nil, poolpilot.BadInput("--http: %v", err)
	}
	if err := t.Preflight(octx); err != nil {
		return nil, doc, nil, poolpilot.BadInput("--http: %v", err)
	}
	return sp, doc, t, nil
}

// runSizeHTTP sweeps a running service's own pool size (size --http).
func runSizeHTTP(cmd *cobra.Command, e *env, f *sizeFlags) error {
	ctx := cmd.Context()
	sp, doc, target, err := f.openService(ctx, e)
	if err != nil {
		return err
	}
	d := &sizeDeps{pooler: doc.Pool.Pooler == pgpool.PoolerTransaction}
	sweepMax := f.max
	if b := doc.Budget; b != nil {
		d.limits = &pgpool.ServerLimits{MaxConnections: b.MaxConnections, SuperuserReserved: b.SuperuserReserved,
			ReservedConnections: b.ReservedConnections, OtherConnections: b.OtherConnections}
		d.notes = append(d.notes, "the budget uses the server's limits from the service's health document (read when the service started)")
		if !d.pooler && b.Available >= 1 && b.Available < sweepMax {
			sweepMax = b.Available
			d.notes = append(d.notes, fmt.Sprintf("the sweep stops at %d, the connections the server has available for the service (--max %d)", sweepMax, f.max))
		}
	}
	clients := f.h.clients
	if clients == 0 {
		clients = min(2*sweepMax, MaxSizeClients)
	}
	d.notes = append(d.notes,
		fmt.Sprintf("wait_p95_ms is the service's own pool.wait_p95_ms at the end of each step, over its statistics window (%gs), which may reach back into earlier steps", doc.Pool.WindowSeconds),
		"db_cpu omitted: --http measures the service, not a database poolpilot connects to")
	rep := &advisor.Report{Schema: advisor.Schema, Workload: "http " + target.(fmt.Stringer).String(), Target: "the service whose admin endpoint is " + redact.URL(f.h.adminURL),
		StartedAt: time.Now().UTC().Format(time.RFC3339), WarmupS: f.warmup.Seconds(), StepDurationS: f.step.Seconds(), Clients: clients}
	res, sweepErr, restoreErr := sweepService(ctx, e, f, sp, doc.Pool, target, sweepMax, clients)
	if restoreErr != nil {
		d.notes = append(d.notes, "RESTORE FAILED: "+restoreErr.Error())
	} else {
		d.notes = append(d.notes, fmt.Sprintf("the pool was restored to max %d, min %d", doc.Pool.Max, doc.Pool.Min))
	}
	rep.Notes = d.notes
	interrupted := sweepErr != nil && ctx.Err() != nil
	if sweepErr != nil && !interrupted {
		return fmt.Errorf("sweep: %w%s", sweepErr, restoreSuffix(restoreErr))
	}
	rep.Steps, rep.Stopped, rep.StoppedDetail, rep.Interrupted = res.Steps, res.Stopped, res.Detail, interrupted
	rep.Rounds = max(res.Rounds, 1)
	recErr := rep.Analyse(f.p95Bound)
	f.budget(rep, d)
	if err := f.output(e, rep); err != nil {
		return err
	}
	if restoreErr != nil {
		return fmt.Errorf("the sweep ended but %w: set it by hand (PUT %s/admin/pool)", restoreErr, strings.TrimSuffix(f.h.adminURL, "/"))
	}
	return sizeExit(rep, interrupted, recErr)
}

// sweepService runs the sweep and always restores the original size, with
// its own timeout, also when ctx was cancelled.
func sweepService(ctx context.Context, e *env, f *sizeFlags, sp *advisor.ServicePool, orig poolpilot.PoolStats, target loadgen.Target, sweepMax, clients int) (res *advisor.SweepResult, sweepErr, restoreErr error) {
	defer func() {
		fmt.Fprintf(e.stderr, "restoring the service's pool to max %d, min %d\n", orig.Max, orig.Min)
		restoreErr = sp.Restore(ctx, orig.Max, orig.Min)
	}()
	res, sweepErr = advisor.Sweep(ctx, sp, target, advisor.SweepConfig{
		Max: sweepMax, Warmup: f.warmup, StepDuration: f.step, MaxTotal: f.maxTotal, Clients: clients,
		Rounds: f.rounds, ConfirmPoorFit: !f.roundsSet,
		OnStep: func(r, i, of int, s advisor.Step) { fmt.Fprintln(e.stderr, advisor.ProgressLine(r, i, of, s)) },
	})
	return res, sweepErr, restoreErr
}

func restoreSuffix(err error) string {
	if err == nil {
		return " (the pool was restored)"
	}
	return "; and " + err.Error()
}
