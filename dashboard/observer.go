package dashboard

import (
	"sync/atomic"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/plan"
)

// Observer is what a live run calls as it goes. runner.Options.Observer
// has this method set; every method must return quickly.
type Observer interface {
	// Started is called once the run's evidence folder dir is open.
	Started(p *plan.Plan, runID, dir string)
	// State is called after each state is journalled.
	State(s change.State, at time.Time)
	// Evaluation is called with each evaluation of the criteria.
	Evaluation(ev criteria.Evaluation)
	// Ended is called when the run returns, in its last state.
	Ended(s change.State, reason string, at time.Time)
}

// Live is the Observer of one run feeding a Hub. Calls before Started are
// ignored.
type Live struct {
	h  *Hub
	rp atomic.Pointer[run]
}

func (l *Live) run() *run { return l.rp.Load() }

var _ Observer = (*Live)(nil)

// Live returns an Observer for one run.
func (h *Hub) Live() *Live { return &Live{h: h} }

// Started registers the run and starts reading its audit log and its
// instances' /healthz.
func (l *Live) Started(p *plan.Plan, runID, dir string) {
	r := newRun(runID, dir, p, true, l.h.now())
	r.setState(change.StatePreflight, l.h.now())
	l.rp.Store(r)
	l.h.addLive(r)
}

// State records a state change.
func (l *Live) State(s change.State, at time.Time) {
	if r := l.run(); r != nil {
		r.setState(s, at)
	}
}

// Evaluation records the criteria's states and values.
func (l *Live) Evaluation(ev criteria.Evaluation) {
	if r := l.run(); r != nil {
		r.evaluation(ev)
	}
}

// Ended marks the run finished; the Hub reads its audit log a last time
// and verifies the folder.
func (l *Live) Ended(s change.State, reason string, at time.Time) {
	if r := l.run(); r != nil {
		l.h.endLive(r, s, reason, at)
	}
}

// RunID is the run's id once started ("" before).
func (l *Live) RunID() string {
	if r := l.run(); r != nil {
		return r.id
	}
	return ""
}
