package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/pgserver"
	"github.com/poolpilot/poolpilot/probe"
	"github.com/poolpilot/poolpilot/source/health"
)

func init() { commands = append(commands, newProbeCmd) }

func newProbeCmd(e *env) *cobra.Command {
	var o probe.Options
	var tokenEnv string
	var asJSON bool
	var dsnEnv string
	c := &cobra.Command{
		Use:   "probe URL",
		Short: "Check a running service against the pool contract (any language)",
		Long: `Checks a running service against poolpilot's pool contract (contract/,
docs/contract.md): fetches its health document several times while sending a
little load of its own (a few concurrent GETs to the service's origin and to
URL), validates every document against contract/health.schema.json, checks
that the figures move as they should (acquires grow, 0 ≤ utilization ≤ 1,
acquired ≤ total ≤ max, total ≥ min), and with --admin-url resizes the pool
up by one and back through PUT /admin/pool and checks that the document
follows. With --dsn-env it counts the service's backends in pg_stat_activity
(by application_name) and warns when they are more than one pool can hold: the
service runs several processes, which a plan declares as instances[].processes.
It prints, per criterion of the default plan, whether the service can feed it.

Exit 0 when the service is conformant, 3 when it is not (every problem
named), 2 when it cannot be reached or the flags are wrong.`,
		Example: `  poolpilot probe http://127.0.0.1:8080/healthz
  POOLPILOT_ADMIN_TOKEN=… poolpilot probe http://127.0.0.1:8080/healthz --admin-url http://127.0.0.1:8080
  poolpilot probe http://10.0.0.5:3000/healthz --load-url http://10.0.0.5:3000/api/ping --json | jq .problems`,
		Args: exactArgs(1, "URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.URL = args[0]
			if o.AdminURL != "" {
				if o.Token = e.getenv(tokenEnv); o.Token == "" {
					return poolpilot.BadInput("--admin-url: the token variable %s (--token-env) is not set", tokenEnv)
				}
			}
			if dsnEnv != "" {
				dsn := e.getenv(dsnEnv)
				if dsn == "" {
					return poolpilot.BadInput("--dsn-env: the variable %s is not set", dsnEnv)
				}
				pool, err := assemble.ToolPool(cmd.Context(), dsn, "poolpilot", 2)
				if err != nil {
					return poolpilot.BadInput("--dsn-env %s: %s", dsnEnv, pgpool.Redact(err.Error()))
				}
				defer pool.Close()
				o.Backends = pgserver.Facts{Pool: pool}.Backends
			}
			rep, err := probe.Run(cmd.Context(), o)
			if err != nil {
				if errors.Is(err, cmd.Context().Err()) && cmd.Context().Err() != nil {
					return err
				}
				return poolpilot.BadInput("probe: %v", err)
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printProbe(e.stdout, rep)
			}
			if !rep.Conformant {
				return &poolpilot.ExitError{Code: poolpilot.ExitFailed, Err: fmt.Errorf("%s is not conformant: %d problem(s)", rep.URL, len(rep.Problems))}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.AdminURL, "admin-url", "", "the service's PUT /admin/pool `URL`: resize up by one and back")
	f.StringVar(&tokenEnv, "token-env", "POOLPILOT_ADMIN_TOKEN", "environment `VAR` holding the admin bearer token")
	f.StringVar(&o.LoadURL, "load-url", "", "an extra `URL` the probe's load GETs (one that uses the database)")
	f.IntVar(&o.Polls, "polls", probe.DefaultPolls, "health documents to fetch (2–100)")
	f.DurationVar(&o.Interval, "interval", probe.DefaultInterval, "time between fetches")
	f.DurationVar(&o.ResizeTimeout, "resize-timeout", probe.DefaultResizeTimeout, "how long the document may take to follow a resize")
	f.StringVar(&dsnEnv, "dsn-env", "", "environment `VAR` holding the service's DATABASE_URL, to count its backends in pg_stat_activity")
	f.StringVar(&o.AppName, "application-name", "", "the service's application_name (default: the document's service field)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}

func printProbe(w io.Writer, rep probe.Report) {
	fmt.Fprintf(w, "probe of %s (%d documents, schema %s)\n", rep.URL, rep.Polls, rep.Schema)
	marks := map[string]string{probe.Pass: "PASS", probe.Fail: "FAIL", probe.Warn: "WARN", probe.Skip: "SKIP"}
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "  %-4s  %-18s %s\n", marks[c.Status], c.ID, c.Detail)
	}
	fmt.Fprintln(w, "criteria of the default plan:")
	for _, f := range rep.Criteria {
		can := map[string]string{health.FeedOK: "yes", health.FeedOther: "n/a"}[f.Status]
		if can == "" {
			can = "NO"
		}
		fmt.Fprintf(w, "  %-4s  %-22s %s\n", can, f.Criterion, f.Detail)
	}
	if rep.Conformant {
		fmt.Fprintln(w, "verdict: conformant")
	} else {
		fmt.Fprintf(w, "verdict: NOT CONFORMANT (%d problem(s))\n", len(rep.Problems))
	}
}
