package evidence

import "time"

// WatchGap is a stretch of a watched phase with no evaluation for longer
// than three evaluation intervals (the controller was frozen, stopped or
// starved): nobody watched the criteria then, so it does not count as
// watched time.
type WatchGap struct {
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Seconds float64   `json:"seconds"`
}

// CriterionCoverage is how much of a phase's watched time one success
// criterion was conclusive (ok, pending or firing on data, not
// inconclusive).
type CriterionCoverage struct {
	Name              string  `json:"name"`
	ConclusiveSeconds float64 `json:"conclusive_seconds"`
	WatchedSeconds    float64 `json:"watched_seconds"`
	Ratio             float64 `json:"ratio"`
	// LastState is the criterion's state at the phase's last evaluation.
	LastState string `json:"last_state,omitempty"`
}

// ClientInstance is what poolpilot's own requests saw of one instance
// during a phase: how many it sent, how many failed (refused or reset
// connections, timeouts, 5xx), and the failures by kind.
type ClientInstance struct {
	Instance     string           `json:"instance"`
	Requests     int64            `json:"requests"`
	Failures     int64            `json:"failures"`
	FailureKinds map[string]int64 `json:"failure_kinds,omitempty"`
	// Shared marks requests sent through a load balancer (Instance is its
	// host:port, not an instance's): they cannot be pinned to one instance,
	// so every instance's client view counted them.
	Shared bool `json:"shared,omitempty"`
}
