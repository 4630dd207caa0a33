package criteria

import (
	"time"

	"github.com/poolpilot/poolpilot"
)

// State is the state of a criterion at one evaluation.
type State string

const (
	StateOK           State = "ok"           // not breaching
	StatePending      State = "pending"      // breaching, for less than its window
	StateFiring       State = "firing"       // breached for its whole window (or inconclusive beyond max_inconclusive)
	StateInconclusive State = "inconclusive" // no data, a data gap, a stale source or no baseline
)

// rank orders states for combining instances: the worst wins.
func (s State) rank() int {
	switch s {
	case StateFiring:
		return 3
	case StatePending:
		return 2
	case StateInconclusive:
		return 1
	}
	return 0
}

// Result is the state of one criterion at one evaluation. For instance
// scope it is the worst instance's (firing > pending > inconclusive > ok;
// among pending ones the nearest to firing), and Instances lists them all.
type Result struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Role        string   `json:"role"`
	Class       string   `json:"class,omitempty"`
	Scope       string   `json:"scope"`
	Aggregate   string   `json:"aggregate,omitempty"`
	Expr        string   `json:"expr"`
	State       State    `json:"state"`
	Instance    string   `json:"instance,omitempty"`
	Value       *float64 `json:"value,omitempty"`
	Threshold   *float64 `json:"threshold,omitempty"`
	// Since is when the current breach (pending/firing) or the current lack
	// of data (inconclusive) began.
	Since  time.Time `json:"since,omitzero"`
	HeldS  float64   `json:"held_s"`
	LeftS  float64   `json:"left_s"` // time left before it fires; 0 unless pending
	ForS   float64   `json:"for_s"`
	Reason string    `json:"reason,omitempty"`
	// Instances is the per-instance state (instance scope).
	Instances []InstanceState `json:"instances,omitempty"`

	evidence []poolpilot.Sample
}

// InstanceState is one instance's state within a Result.
type InstanceState struct {
	Instance string   `json:"instance"`
	State    State    `json:"state"`
	Value    *float64 `json:"value,omitempty"`
	HeldS    float64  `json:"held_s,omitempty"`
	LeftS    float64  `json:"left_s,omitempty"`
	Reason   string   `json:"reason,omitempty"`
}

// Evaluation is the outcome of one evaluation of every criterion.
type Evaluation struct {
	Time    time.Time `json:"time"`
	Results []Result  `json:"results"`
	// Decision is the rollback decision, once one trigger has fired; it is
	// latched: later evaluations repeat it.
	Decision *Decision `json:"decision,omitempty"`
	Verdict  Verdict   `json:"verdict"`
}

// Decision is the first rollback trigger that fired, with the samples that
// made it fire: every sample of the breach that lasted its window (or the
// last samples before data stopped, when it fired for being inconclusive).
type Decision struct {
	Time      time.Time          `json:"time"`
	Criterion string             `json:"criterion"`
	Class     string             `json:"class"`
	Expr      string             `json:"expr"`
	Instance  string             `json:"instance,omitempty"`
	Value     *float64           `json:"value,omitempty"`
	Threshold *float64           `json:"threshold,omitempty"`
	HeldS     float64            `json:"held_s"`
	Reason    string             `json:"reason"`
	Evidence  []poolpilot.Sample `json:"evidence"`
}

// Verdict says whether every success criterion has been ok at every
// evaluation for the window.
type Verdict struct {
	// Success is true once all success criteria were ok at every evaluation
	// for the last WindowS seconds.
	Success bool    `json:"success"`
	WindowS float64 `json:"window_s"`
	// OKSince is the first evaluation of the current run of all-ok
	// evaluations (zero when the last evaluation was not all ok).
	OKSince time.Time `json:"ok_since,omitzero"`
	HeldS   float64   `json:"held_s"`
	LeftS   float64   `json:"left_s"`
	// Failing names the success criteria not ok at the last evaluation.
	Failing []string `json:"failing,omitempty"`
}

// Worst returns the results in a given state.
func (ev Evaluation) InState(s State) []Result {
	var out []Result
	for _, r := range ev.Results {
		if r.State == s {
			out = append(out, r)
		}
	}
	return out
}
