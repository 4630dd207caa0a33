package main

import (
	"strings"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
)

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
