package main

import (
	"fmt"
	"strings"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
)

// autoStepsNote says where an auto staircase's steps came from ("" for
// any other plan).
func autoStepsNote(p *plan.Plan) string {
	src, ok := p.AutoSteps()
	if !ok {
		return ""
	}
	steps := make([]string, len(p.Change.Steps))
	for i, s := range p.Change.Steps {
		steps[i] = fmt.Sprintf("%d:%d", s.Max, s.Min)
	}
	rec := "no recommendation"
	if src.Recommended > 0 {
		rec = fmt.Sprintf("recommended max %d", src.Recommended)
	}
	return fmt.Sprintf("change.steps {auto: true} from the sizing report %s (%s): %s", src.Report, rec, strings.Join(steps, " → "))
}

// checkAutoSteps refuses an auto staircase whose sizing report measured
// another database than the plan's database.dsn_env (when it is set).
func checkAutoSteps(e *env, p *plan.Plan) error {
	dsn := strings.TrimSpace(e.getenv(p.Database.DSNEnv))
	if dsn == "" {
		return nil
	}
	if err := p.CheckSizingDatabase(dsn); err != nil {
		return poolpilot.BadInput("%v", err)
	}
	return nil
}

// planAsRun is the plan.yaml of the evidence: the plan file byte for
// byte, except for an auto staircase, whose sizing report is not in the
// folder: its normalised plan, with the steps listed (the same SHA-256).
func planAsRun(p *plan.Plan, raw []byte) []byte {
	note := autoStepsNote(p)
	if note == "" {
		return raw
	}
	return append([]byte("# "+note+"\n# (the normalised plan: the plan file said {auto: true})\n"), p.YAML()...)
}
