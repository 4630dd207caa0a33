package runner

import (
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/plan"
)

// Observer watches a run as it goes (the live dashboard: dashboard.Live
// implements it). Its methods must return quickly.
type Observer interface {
	// Started is called once the run's evidence folder dir is open.
	Started(p *plan.Plan, runID, dir string)
	// State is called after each state is journalled.
	State(s change.State, at time.Time)
	// Evaluation is called with each evaluation of the criteria.
	Evaluation(ev criteria.Evaluation)
	// Ended is called when Run returns, in the run's last state.
	Ended(s change.State, reason string, at time.Time)
}

// onState is the controller's OnState: the Observer, then Options.OnState.
func (r *runner) onState() func(change.State) {
	if r.o.Observer == nil {
		return r.o.OnState
	}
	return func(s change.State) {
		r.o.Observer.State(s, r.clock.Now().UTC())
		if r.o.OnState != nil {
			r.o.OnState(s)
		}
	}
}
