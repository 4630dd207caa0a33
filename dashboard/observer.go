package dashboard

import (
	"sync/atomic"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/plan"
)

// Live feeds a Hub with one run as it goes: it implements runner.Observer
// (runner.Options.Observer; its methods return quickly). Calls before
// Started are ignored.
type Live struct {
	h  *Hub
	rp atomic.Pointer[run]
}

func (l *Live) run() *run { return l.rp.Load() }

// Live returns the observer of one run (for runner.Options.Observer).
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
