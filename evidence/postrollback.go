package evidence

import "time"

// FilePostRollbackMonitoring is written after a rollback: the criteria
// watched again for rollback.monitor, and whether the service returned to
// its baseline.
const FilePostRollbackMonitoring = "post_rollback_monitoring.json" // PostRollbackMonitoring

// PostRollbackMonitoring is post_rollback_monitoring.json.
type PostRollbackMonitoring struct {
	Started        time.Time `json:"started"`
	Ended          time.Time `json:"ended"`
	PlannedSeconds float64   `json:"planned_seconds"`
	WatchedSeconds float64   `json:"watched_seconds"`
	// Baseline is the fleet before the change; After the fleet at the end
	// of the monitoring.
	Baseline *Aggregate `json:"baseline,omitempty"`
	After    Aggregate  `json:"after"`
	// Criteria are each criterion's state at the last evaluation.
	Criteria []CriterionResult `json:"criteria"`
	Samples  []Sample          `json:"samples"`
	// ReturnedToBaseline is true when, at the end, no rollback trigger was
	// firing or pending, every instance answered, and the error rate and
	// p95 latency were back within the tolerances of the baseline.
	ReturnedToBaseline bool     `json:"returned_to_baseline"`
	Problems           []string `json:"problems,omitempty"`
	Interrupted        string   `json:"interrupted,omitempty"`
}
