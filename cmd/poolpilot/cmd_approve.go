package main

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

func init() { commands = append(commands, newApproveCmd, newChecklistCmd) }

// loadPlan reads a plan for a command; any problem is bad input.
func loadPlan(path string) (*plan.Plan, string, error) {
	p, err := plan.Load(path)
	if err != nil {
		return nil, "", &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
	}
	return p, change.PlanDir(p, filepath.Dir(path)), nil
}

func newApproveCmd(e *env) *cobra.Command {
	var by, statement, keyFile string
	var asJSON bool
	c := &cobra.Command{
		Use:   "approve PLAN --by NAME --statement TEXT [--signing-key FILE]",
		Short: "Record an approval bound to the plan's SHA-256",
		Long: `Records who approved, when, and the SHA-256 of the plan they approved, in
<evidence.dir>/<plan name>/approvals.jsonl. 'poolpilot run' refuses without the
approvals the plan requires, or when the plan changed after approval.

When the plan lists approvals.approvers (name and Ed25519 public key each),
only they can approve, and each must sign with their private key
(--signing-key, made by 'poolpilot evidence keygen'); --by may then be left
out. Without approvers an approval is protected by a hash only, which anyone
able to write the approvals file can recompute: preflight warns about it.`,
		Example: `  poolpilot approve phase1.yaml --by "Jane Doe (Executive Operator)" --statement "I approve Phase 1 execution"
  # a plan that lists its approvers: sign with your own key
  poolpilot evidence keygen --out jane          # once; paste the printed public key into the plan
  poolpilot approve phase1.yaml --signing-key jane.key --statement "I approve Phase 1 execution"`,
		Args: exactArgs(1, "PLAN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, dir, err := loadPlan(args[0])
			if err != nil {
				return err
			}
			var key ed25519.PrivateKey
			if keyFile != "" {
				if key, err = evidence.LoadPrivateKey(keyFile); err != nil {
					return poolpilot.BadInput("--signing-key: %v", err)
				}
			}
			a, err := change.ApproveSigned(dir, p, by, statement, time.Now(), key)
			if err != nil {
				return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
			}
			if asJSON {
				return json.NewEncoder(e.stdout).Encode(a)
			}
			signed := ""
			if a.Signature != "" {
				signed = ", signed"
			}
			fmt.Fprintf(e.stdout, "approved: plan %s (sha256 %s) by %s at %s%s\n", a.PlanName, a.PlanSHA256, a.By, a.Time.Format(time.RFC3339), signed)
			if st, err := change.CheckApprovals(dir, p); err == nil {
				fmt.Fprintf(e.stdout, "plan %s has the %d approval(s) it requires; each lets one run start\n", p.Name, p.Approvals.Required)
			} else {
				fmt.Fprintf(e.stdout, "plan %s has %d valid approval(s) of the %d it requires\n", p.Name, len(st.Valid), p.Approvals.Required)
			}
			if !p.Approvals.Signed() {
				fmt.Fprintf(e.stderr, "warning: %s\n", change.UnsignedApprovalsWarning)
			}
			return nil
		},
	}
	c.Flags().StringVar(&by, "by", "", "who approves (name and role); with listed approvers, defaults to the name listed for the signing key")
	c.Flags().StringVar(&keyFile, "signing-key", "", "`FILE`: your Ed25519 private key (PEM, from 'poolpilot evidence keygen'); required when the plan lists approvals.approvers")
	c.Flags().StringVar(&statement, "statement", "", "the approval in words, e.g. \"I approve Phase 1 execution\"")
	c.Flags().BoolVar(&asJSON, "json", false, "print the approval record as JSON")
	return c
}

func newChecklistCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "checklist",
		Short:   "Tick and list the plan's manual pre-launch checklist items",
		Example: "  poolpilot checklist tick stakeholders-notified --plan phase1.yaml --by \"Jane Doe\"\n  poolpilot checklist status --plan phase1.yaml",
	}
	var planPath, by string
	var asJSON bool
	tick := &cobra.Command{
		Use:     "tick ID --plan PLAN --by NAME",
		Short:   "Confirm a manual checklist item",
		Example: "  poolpilot checklist tick on-call-available --plan phase1.yaml --by \"Sam (on-call)\"",
		Args:    exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if planPath == "" {
				return poolpilot.BadInput("--plan is required")
			}
			p, dir, err := loadPlan(planPath)
			if err != nil {
				return err
			}
			t, err := change.TickItem(dir, p, args[0], by, time.Now())
			if err != nil {
				return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
			}
			fmt.Fprintf(e.stdout, "ticked %s by %s at %s\n", t.ID, t.By, t.Time.Format(time.RFC3339))
			return nil
		},
	}
	tick.Flags().StringVar(&planPath, "plan", "", "the plan file")
	tick.Flags().StringVar(&by, "by", "", "who confirms the item")
	status := &cobra.Command{
		Use:     "status --plan PLAN",
		Short:   "Show which checklist items are ticked",
		Example: "  poolpilot checklist status --plan phase1.yaml --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if planPath == "" {
				return poolpilot.BadInput("--plan is required")
			}
			p, dir, err := loadPlan(planPath)
			if err != nil {
				return err
			}
			ticked, missing, err := change.CheckTicks(dir, p)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(e.stdout).Encode(map[string]any{"ticked": ticked, "missing": missing})
			}
			for _, it := range p.Checklist {
				if t, ok := ticked[it.ID]; ok {
					fmt.Fprintf(e.stdout, "[x] %-24s %s (by %s, %s)\n", it.ID, it.Description, t.By, t.Time.Format(time.RFC3339))
				} else {
					fmt.Fprintf(e.stdout, "[ ] %-24s %s\n", it.ID, it.Description)
				}
			}
			return nil
		},
	}
	status.Flags().StringVar(&planPath, "plan", "", "the plan file")
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(tick, status)
	return c
}
