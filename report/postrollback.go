package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
)

// postRollbackNote is what the report says of post_rollback_monitoring.json:
// how long the criteria were watched again after the rollback, and whether
// the service returned to its baseline (with the figures, or the problems).
// Empty when the run wrote no such file.
func postRollbackNote(pm *evidence.PostRollbackMonitoring) string {
	if pm == nil {
		return ""
	}
	watched := criteria.HumanDuration(time.Duration(pm.WatchedSeconds * float64(time.Second)))
	planned := criteria.HumanDuration(time.Duration(pm.PlannedSeconds * float64(time.Second)))
	s := fmt.Sprintf("Post-rollback monitoring (%s): the criteria were watched again for %s of the planned %s after the rollback",
		evidence.FilePostRollbackMonitoring, watched, planned)
	if !pm.ReturnedToBaseline {
		return s + "; the service did NOT return to its baseline: " + strings.Join(pm.Problems, "; ") + "."
	}
	s += fmt.Sprintf("; the service returned to its baseline (error rate %s, p95 %s", criteria.HumanPercent(pm.After.ErrorRate), criteria.HumanMillis(pm.After.LatencyP95MS))
	if b := pm.Baseline; b != nil {
		s += fmt.Sprintf("; baseline %s, %s", criteria.HumanPercent(b.ErrorRate), criteria.HumanMillis(b.LatencyP95MS))
	}
	return s + ")."
}
