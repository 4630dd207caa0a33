package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/advisor"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/preflight"
)

func init() { commands = append(commands, newPreflightCmd) }

// requireDSN refuses, as bad input, a plan whose database.dsn_env is not
// set: without the database nothing can be checked, so nothing starts.
func requireDSN(e *env, p *plan.Plan) error {
	if strings.TrimSpace(e.getenv(p.Database.DSNEnv)) == "" {
		return poolpilot.BadInput("%s (database.dsn_env) is not set: export the database URL in it (e.g. %s=postgres://app@db:5432/ledger)", p.Database.DSNEnv, p.Database.DSNEnv)
	}
	return nil
}

func newPreflightCmd(e *env) *cobra.Command {
	var asJSON bool
	var sizing string
	c := &cobra.Command{
		Use:   "preflight PLAN",
		Short: "Run the plan's pre-launch checks without changing anything",
		Long: `Runs the machine-checkable part of the seed's pre-launch checklist: database
reachable, connection budget ((instances + surge) × new max + other clients ≤
max_connections − reserved), baseline health, backup recency, the instances'
current config, credentials, and the manual checklist ticks.

With driver kube the instance count is read from the cluster (max replicas of
the HPA + maxSurge, per Deployment) and each Deployment's DB_POOL_MAX and
DB_POOL_MIN must be the plan's change.from. Behind PgBouncer
(database.pgbouncer_admin_dsn_env) the budget is checked on both sides of the
pooler (pooler_budget); database.pooler_max_clients checks the client side of
a pooler whose console cannot be read (Neon). A sizing report
(database.sizing_report, or --sizing FILE from 'poolpilot size --save FILE')
warns when change.to.max is far above the measured recommendation.

Exit 0 when every check passes (warnings allowed), 4 when the change would be
refused, 2 on bad input.`,
		Example: `  DATABASE_URL=postgres://app@db:5432/ledger POOLPILOT_ADMIN_TOKEN=… poolpilot preflight phase1.yaml
  poolpilot preflight phase1.yaml --json | jq '.checks[] | select(.status=="fail")'
  poolpilot size --dsn-env DATABASE_URL --save sizing.json && poolpilot preflight phase1.yaml --sizing sizing.json`,
		Args: exactArgs(1, "PLAN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, dir, err := loadPlan(args[0])
			if err != nil {
				return err
			}
			if err := requireDSN(e, p); err != nil {
				return err
			}
			if _, err := assemble.PromAuth(p, e.getenv); err != nil {
				return err
			}
			if sizing != "" {
				if _, err := advisor.LoadReport(sizing); err != nil {
					return poolpilot.BadInput("--sizing: %v", err)
				}
			}
			rep := assemble.Preflight(cmd.Context(), p, e.getenv, assemble.PreflightOptions{PlanDir: dir, Sizing: sizing})
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printPreflight(e.stdout, rep)
			}
			if !rep.OK {
				return &poolpilot.ExitError{Code: poolpilot.ExitRefused, Err: fmt.Errorf("preflight refused plan %s: %d check(s) failed", p.Name, len(rep.Failed()))}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	c.Flags().StringVar(&sizing, "sizing", "", "a sizing report `FILE` (poolpilot size --save) to compare change.to.max with; overrides database.sizing_report")
	return c
}

func printPreflight(w io.Writer, rep preflight.Report) {
	fmt.Fprintf(w, "preflight of plan %s (sha256 %s…)\n", rep.Plan, rep.SHA256[:12])
	for _, c := range rep.Checks {
		mark := map[string]string{preflight.CheckPass: "PASS", preflight.CheckFail: "FAIL", preflight.CheckWarn: "WARN", preflight.CheckSkip: "SKIP"}[c.Status]
		fmt.Fprintf(w, "  %-4s  %-40s %s\n", mark, c.Title, c.Detail)
	}
	if rep.OK {
		fmt.Fprintln(w, "verdict: ready")
	} else {
		fmt.Fprintln(w, "verdict: REFUSED")
	}
}
