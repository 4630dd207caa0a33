package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/plan"
)

func init() { commands = append(commands, newPlanCmd) }

func newPlanCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "plan",
		Short: "Write and check change plans",
		Example: `  poolpilot plan init --health http://127.0.0.1:8080/healthz > phase1.yaml
  poolpilot plan check phase1.yaml`,
	}
	c.AddCommand(newPlanInitCmd(e), newPlanCheckCmd(e))
	return c
}

func newPlanInitCmd(e *env) *cobra.Command {
	o := plan.SeedInitOptions()
	var health, from, to, out string
	c := &cobra.Command{
		Use:   "init",
		Short: "Write the seed's Phase 1 plan (10:2 → 200:20) with comments",
		Long: `Writes the seed's Phase 1 plan: pool 10:2 → 200:20 (max:min), the seed's seven
success criteria and rollback triggers, a 15-minute load test, a 60-minute soak,
5-minute trigger windows and a 02:00–06:00 UTC change window, with comments.
Every duration can be compressed for drills and tests. The first line is a
yaml-language-server modeline naming the plan's JSON Schema, so that editors
check the plan as it is written.`,
		Example: `  poolpilot plan init > phase1.yaml
  poolpilot plan init --health http://10.0.0.5:8080/healthz,http://10.0.0.6:8080/healthz --to 40:4 --out phase1.yaml
  poolpilot plan init --soak 60s --trigger-window 5s --load-duration 10s --out drill.yaml
  poolpilot plan init --workload http --url http://127.0.0.1:8080/ledger/accounts --load-rate 20
  poolpilot plan init --driver restart --health http://127.0.0.1:8081/healthz,http://127.0.0.1:8082/healthz \
    --env-file '/etc/ledgerd/{instance}.env' --restart-command 'systemctl restart ledgerd@{instance}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.From, err = plan.ParsePoolSize(from); err != nil {
				return poolpilot.BadInput("--from: %v", err)
			}
			if o.To, err = plan.ParsePoolSize(to); err != nil {
				return poolpilot.BadInput("--to: %v", err)
			}
			o.HealthURLs = splitList(health)
			b, err := plan.Init(o)
			if err != nil {
				return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
			}
			if out == "" || out == "-" {
				_, err = e.stdout.Write(b)
				return err
			}
			if _, err := os.Stat(out); err == nil {
				return poolpilot.BadInput("--out %s already exists: remove it or choose another name", out)
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return fmt.Errorf("write plan: %w", err)
			}
			fmt.Fprintf(e.stderr, "wrote %s; next: poolpilot plan check %s\n", out, out)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.Name, "name", o.Name, "plan name (names the evidence folder)")
	f.StringVar(&health, "health", strings.Join(o.HealthURLs, ","), "comma-separated /healthz URLs, one per instance")
	f.StringVar(&o.AdminTokenEnv, "admin-token-env", o.AdminTokenEnv, "environment variable holding the admin bearer token")
	f.StringVar(&o.DSNEnv, "dsn-env", o.DSNEnv, "environment variable holding the database URL")
	f.StringVar(&o.Driver, "driver", o.Driver, "how the change is applied: admin, restart or kube")
	f.StringVar(&from, "from", "10:2", "current pool size MAX:MIN (the rollback target)")
	f.StringVar(&to, "to", "200:20", "new pool size MAX:MIN")
	f.StringVar(&o.Workload, "workload", o.Workload, "load test workload: ledger, http, select1 or none")
	f.StringVar(&o.LoadURL, "url", "", "the URL the load test requests (required by --workload http)")
	f.StringVar(&o.EnvFile, "env-file", "", "driver restart: the env file(s) to rewrite, comma-separated, one per instance or one for all; {instance} is replaced by the instance name (default /etc/ledgerd/{instance}.env)")
	f.StringVar(&o.RestartCommand, "restart-command", "", "driver restart: the command that restarts an instance, quoted as for a shell; {instance} is replaced by the instance name (default 'systemctl restart ledgerd@{instance}')")
	f.StringVar(&o.SchemaURL, "schema", o.SchemaURL, "the JSON Schema URL or path written in the first line's yaml-language-server modeline")
	f.Float64Var(&o.LoadRate, "load-rate", o.LoadRate, "load test rate, requests per second")
	f.DurationVar(&o.LoadDuration, "load-duration", o.LoadDuration, "load test duration")
	f.DurationVar(&o.Soak, "soak", o.Soak, "soak duration (success criterion 7)")
	f.DurationVar(&o.TriggerFor, "trigger-window", o.TriggerFor, "how long a rollback trigger must hold before it fires")
	f.DurationVar(&o.Baseline, "baseline", o.Baseline, "pre-change baseline window")
	f.StringVar(&o.EvidenceDir, "evidence-dir", o.EvidenceDir, "where evidence folders go")
	f.StringVarP(&out, "out", "o", "", "write to this file instead of stdout (refuses to overwrite)")
	return c
}

func newPlanCheckCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "check PLAN",
		Short: "Validate a plan; print its normalised form and SHA-256",
		Long: `Validates a plan strictly (unknown keys, wrong types, impossible values are
refused with the line and the field) and prints the normalised plan and its
SHA-256, the identity an approval binds to. Exit 0 when valid, 2 otherwise.`,
		Example: `  poolpilot plan check phase1.yaml
  poolpilot plan check phase1.yaml --json | jq -r .sha256`,
		Args: exactArgs(1, "PLAN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := plan.Load(args[0])
			if err != nil { // unreadable or invalid: either way the input is bad
				return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
			}
			if err := checkAutoSteps(e, p); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Valid  bool       `json:"valid"`
					SHA256 string     `json:"sha256"`
					Plan   *plan.Plan `json:"plan"`
				}{true, p.SHA256(), p})
			}
			fmt.Fprintf(e.stdout, "# plan %s is valid\n# sha256: %s\n", p.Name, p.SHA256())
			if note := assemble.AutoStepsNote(p); note != "" {
				fmt.Fprintf(e.stdout, "# %s\n", note)
			}
			_, err = e.stdout.Write(p.YAML())
			return err
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON: {valid, sha256, plan}")
	return c
}

// exactArgs is cobra.ExactArgs with a message that names the argument.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return poolpilot.BadInput("%s needs %s (got %d argument(s)); see '%s --help'", cmd.CommandPath(), names, len(args), cmd.CommandPath())
		}
		return nil
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
