package change

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// Recorder is what the controller needs from the evidence folder.
type Recorder interface {
	// Record appends an audit event (and a line of the execution log).
	Record(ev evidence.Event) error
	// WriteFile writes an evidence file atomically (and audits its digest).
	WriteFile(name string, data []byte) error
}

// Verdict is what a watched phase (load test, soak) concluded.
type Verdict struct {
	Rollback  bool   `json:"rollback"`
	Criterion string `json:"criterion,omitempty"`
	Class     string `json:"class,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Role is the criterion's role (rollback, or success for a success
	// criterion that failed); Manual marks an operator's rollback.
	Role   string `json:"role,omitempty"`
	Manual bool   `json:"manual,omitempty"`
}

// PreflightVerdict is what the controller needs of a preflight (package
// preflight's Report): it is written as preflight.json, and a preflight
// that did not pass refuses the change with its Refusal as the reason.
type PreflightVerdict interface {
	Passed() bool
	// Refusal names each failed check with its detail ("id: detail; …").
	Refusal() string
}

// Phases are the run's pluggable steps. A nil phase is skipped.
type Phases struct {
	Preflight func(ctx context.Context) (PreflightVerdict, error)
	Approvals func(ctx context.Context) error
	Window    func(now time.Time) error
	Baseline  func(ctx context.Context) error
	LoadTest  func(ctx context.Context) (Verdict, error)
	Soak      func(ctx context.Context) (Verdict, error)
	// Step watches one step of a staircase change (change.steps).
	Step StepPhase
	// AfterRollback runs once a rollback succeeded, before the run is
	// declared rolled back: the post-rollback monitoring.
	AfterRollback func(ctx context.Context)
}

// Controller runs a plan through its states.
type Controller struct {
	Plan     *plan.Plan
	Journal  *Journal
	Driver   Driver
	Prober   Prober
	Recorder Recorder
	Phases   Phases
	Clock    poolpilot.Clock
	// Backends, if set, counts the database's client backends per
	// application_name, which verify compares with the pools.
	Backends BackendCounter
	// Wait pauses between verification polls; nil waits on real time.
	Wait func(ctx context.Context, d time.Duration) error
	// Notify sends a notification; failures are recorded, never fatal.
	Notify func(ctx context.Context, event, text string) error
	// Progress receives human-readable progress lines.
	Progress io.Writer
	// OnState, if set, is called after each state is journalled.
	OnState func(State)
	// Finish, if set, is called before a terminal state is journalled, with
	// the outcome: it writes the closing evidence (the terminal
	// state_change audit event included) and closes the evidence folder.
	// Only once it returns nil is the terminal state journalled, announced
	// and notified; an error leaves the journal in the state before, and
	// Run returns the error (the run is resumed to finish it).
	Finish func(ctx context.Context, out Outcome) error
	// Pending, when set, is an outcome reached before a crash whose
	// evidence was not closed: Run runs no step and only declares it.
	Pending *Outcome
	// RollbackTimeout bounds a rollback, which runs even when ctx is
	// cancelled; 0: 10 minutes, or the batches' verify (and, for driver
	// kube, rollout) timeouts added up when that is longer.
	RollbackTimeout time.Duration

	evMu   sync.Mutex
	evErr  error // first evidence write that failed
	sealed bool  // Finish closed the evidence folder
	// backends is the last verify's backend checks (under evMu).
	backends []BackendCheck

	deployLog  bytes.Buffer
	restartLog bytes.Buffer
}

// Outcome is how a run ended.
type Outcome struct {
	State  State  `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// ErrRefused wraps the reason a run was refused before it changed anything.
var ErrRefused = errors.New("refused")

// ErrLeaveAsIs, as the cause of the run context's cancellation
// (context.WithCancelCause), stops the run where it is, without a rollback:
// the operator chose to leave the instances as they are. The journal keeps
// the state, so the run can be resumed or rolled back later.
var ErrLeaveAsIs = errors.New("left as is by the operator")

// leaving returns ErrLeaveAsIs (wrapped) when the operator chose to leave
// the run as it is.
func leaving(ctx context.Context) error {
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrLeaveAsIs) {
		return fmt.Errorf("run stopped: %w", ErrLeaveAsIs)
	}
	return nil
}

// causeText is why ctx ended: its cause when one was given.
func causeText(ctx context.Context) string {
	if c := context.Cause(ctx); c != nil {
		return c.Error()
	}
	return ctx.Err().Error()
}

// Run executes the plan from the journal's last state (a new journal starts
// at preflight). It returns the terminal outcome.
func (c *Controller) Run(ctx context.Context) (Outcome, error) {
	rp := ReplayRecords(c.Journal.Records())
	state := rp.State
	if state == "" {
		state = StatePreflight
		if err := c.enter("", state, ""); err != nil {
			return Outcome{}, err
		}
	} else {
		c.progress("resuming run from %s", state)
		c.event(evidence.Resumed{State: string(state)})
	}
	if c.Pending != nil && !state.Terminal() {
		return c.declare(ctx, state, *c.Pending)
	}
	for !state.Terminal() {
		next, reason, err := c.step(ctx, state, rp)
		if err != nil {
			return Outcome{State: state, Reason: err.Error()}, err
		}
		next, reason = c.guardEvidence(state, next, reason)
		if next == StateRollingBack && state != StateRollingBack {
			c.notify(ctx, "rollback", fmt.Sprintf("plan %s: rolling back: %s", c.Plan.Name, reason))
		}
		if next.Terminal() && c.Finish != nil {
			if reason == "" {
				reason = rp.Reason
			}
			return c.declare(ctx, state, Outcome{State: next, Reason: reason})
		}
		if err := c.enter(state, next, reason); err != nil {
			return Outcome{State: state}, err
		}
		state = next
		rp = ReplayRecords(c.Journal.Records())
	}
	out := Outcome{State: state, Reason: rp.Reason}
	c.notifyEnd(ctx, out)
	return out, nil
}

// declare finishes the run in out.State from state: the closing evidence
// first (Finish), then the journal, the progress line and the
// notification. When Finish fails the journal stays at state.
func (c *Controller) declare(ctx context.Context, state State, out Outcome) (Outcome, error) {
	if c.Finish != nil {
		if err := c.Finish(ctx, out); err != nil {
			return Outcome{State: state, Reason: err.Error()}, err
		}
		c.evMu.Lock()
		c.sealed = true // the folder is closed: later events go to the progress only
		c.evMu.Unlock()
	}
	if _, err := c.Journal.Append(StateRecord(out.State, out.Reason), c.Clock.Now()); err != nil {
		return Outcome{State: state}, fmt.Errorf("the evidence is closed but the journal cannot record %s: %w", out.State, err)
	}
	if c.OnState != nil {
		c.OnState(out.State)
	}
	if out.Reason != "" {
		c.progress("→ %s (%s)", out.State, out.Reason)
	} else {
		c.progress("→ %s", out.State)
	}
	c.notifyEnd(ctx, out)
	return out, nil
}

// notifyEnd sends the notification of a terminal outcome.
func (c *Controller) notifyEnd(ctx context.Context, out Outcome) {
	rp := Replay{Reason: out.Reason}
	switch out.State {
	case StateSettled:
		t := c.target()
		c.notify(ctx, "settled", fmt.Sprintf("plan %s settled at pool %d:%d on %d instance(s) (target %d:%d): %s", c.Plan.Name, t.Max, t.Min, len(c.Plan.Instances), c.Plan.Change.To.Max, c.Plan.Change.To.Min, rp.Reason))
	case StateSucceeded:
		c.notify(ctx, "success", fmt.Sprintf("plan %s succeeded: pool %d:%d on %d instance(s)", c.Plan.Name, c.Plan.Change.To.Max, c.Plan.Change.To.Min, len(c.Plan.Instances)))
	case StateRolledBack:
		c.notify(ctx, "rolled_back", fmt.Sprintf("plan %s rolled back to %d:%d: %s", c.Plan.Name, c.Plan.Change.From.Max, c.Plan.Change.From.Min, rp.Reason))
	case StateRollbackFailed:
		c.notify(ctx, "rollback_failed", fmt.Sprintf("PAGE: plan %s ROLLBACK FAILED: %s", c.Plan.Name, rp.Reason))
	}
}

// enter journals the move from state `from` to s (fsynced) and audits its
// projection (Transition).
func (c *Controller) enter(from, s State, reason string) error {
	sc, err := Transition(c.Journal, from, s, reason, c.Clock.Now())
	if err != nil {
		return err
	}
	c.event(sc)
	if c.OnState != nil {
		c.OnState(s)
	}
	if reason != "" {
		c.progress("→ %s (%s)", s, reason)
	} else {
		c.progress("→ %s", s)
	}
	return nil
}

// step performs the work of state s and returns the next state.
func (c *Controller) step(ctx context.Context, s State, rp Replay) (State, string, error) {
	switch s {
	case StatePreflight:
		return c.preflight(ctx)
	case StateAwaitingApproval:
		if c.Phases.Approvals != nil {
			if err := c.Phases.Approvals(ctx); err != nil {
				return StateRefused, "approval: " + err.Error(), nil
			}
		}
		return StateApproved, "", nil
	case StateApproved:
		if c.Phases.Window != nil {
			if err := c.Phases.Window(c.Clock.Now()); err != nil {
				return StateRefused, "change window: " + err.Error(), nil
			}
		}
		return StateBaseline, "", nil
	case StateBaseline:
		if c.Phases.Baseline != nil {
			if err := c.Phases.Baseline(ctx); err != nil {
				if lerr := leaving(ctx); lerr != nil {
					return "", "", lerr
				}
				return StateRefused, "baseline: " + err.Error(), nil
			}
		}
		if c.Plan.Stepped() {
			return StateStepping, "", nil
		}
		return StateApplying, "", nil
	case StateStepping:
		return c.stepping(ctx)
	case StateApplying:
		if err := c.applyAll(ctx, c.target()); err != nil {
			if lerr := leaving(ctx); lerr != nil {
				return "", "", lerr
			}
			if ctx.Err() != nil {
				return StateRollingBack, "apply interrupted: " + causeText(ctx), nil
			}
			return StateRollingBack, "apply failed: " + err.Error(), nil
		}
		return StateVerifying, "", nil
	case StateVerifying:
		if err := c.verifyAll(ctx, c.instances(), c.target()); err != nil {
			if lerr := leaving(ctx); lerr != nil {
				return "", "", lerr
			}
			if ctx.Err() != nil {
				return StateRollingBack, "verify interrupted: " + causeText(ctx), nil
			}
			return StateRollingBack, "verify failed: " + err.Error(), nil
		}
		c.writePostChangeConfig(ctx)
		return StateLoadTest, "", nil
	case StateLoadTest:
		if _, settled := SettledSize(c.Journal.Records()); settled {
			c.progress("load test: the settled step was load-tested while climbing (steps.json)")
			return StateSoak, "", nil
		}
		return c.watched(ctx, c.Phases.LoadTest, StateSoak, "load test")
	case StateSoak:
		if t, settled := SettledSize(c.Journal.Records()); settled {
			next, reason, err := c.watched(ctx, c.Phases.Soak, StateSettled, "soak")
			if next == StateSettled {
				reason = fmt.Sprintf("settled at %d:%d below change.to %d:%d: %s", t.Max, t.Min, c.Plan.Change.To.Max, c.Plan.Change.To.Min, settleWhy(c.Journal.Records()))
			}
			return next, reason, err
		}
		return c.watched(ctx, c.Phases.Soak, StateSucceeded, "soak")
	case StateRollingBack:
		if err := c.rollback(ctx, rp); err != nil {
			return StateRollbackFailed, rp.Reason + "; rollback failed: " + err.Error(), nil
		}
		if c.Phases.AfterRollback != nil {
			c.Phases.AfterRollback(ctx)
		}
		return StateRolledBack, "", nil
	}
	return "", "", fmt.Errorf("no step for state %s", s)
}

func (c *Controller) preflight(ctx context.Context) (State, string, error) {
	if c.Phases.Preflight == nil {
		return StateAwaitingApproval, "", nil
	}
	rep, err := c.Phases.Preflight(ctx)
	if err != nil {
		return "", "", fmt.Errorf("preflight: %w", err)
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	c.writeFile("preflight.json", b)
	if !rep.Passed() {
		return StateRefused, "preflight: " + rep.Refusal(), nil
	}
	return StateAwaitingApproval, "", nil
}

func (c *Controller) instances() []plan.Instance { return c.Plan.Instances }

func (c *Controller) event(ev evidence.Event) {
	name := ev.EventName()
	c.evMu.Lock()
	sealed := c.sealed
	c.evMu.Unlock()
	if c.Recorder == nil {
		return
	}
	if sealed {
		c.progress("%s (after the evidence was closed: not audited)", name)
		return
	}
	if err := c.Recorder.Record(ev); err != nil {
		c.progress("warning: audit event %s not recorded: %v", name, err)
		c.EvidenceFailed(fmt.Errorf("audit event %s: %w", name, err))
	}
}

func (c *Controller) writeFile(name string, data []byte) {
	if c.Recorder == nil {
		return
	}
	if err := c.Recorder.WriteFile(name, data); err != nil {
		c.progress("warning: evidence file %s not written: %v", name, err)
		c.EvidenceFailed(fmt.Errorf("%s: %w", name, err))
	}
}

// EvidenceFailed records that evidence could not be written (a full or
// read-only disk). A change must not go on, or be declared a success,
// without its evidence: before apply the run is refused, after it the run
// rolls back (the rollback itself goes on whatever the disk says).
func (c *Controller) EvidenceFailed(err error) {
	c.evMu.Lock()
	defer c.evMu.Unlock()
	if c.evErr == nil {
		c.evErr = err
	}
}

// guardEvidence turns the next state into a refusal or a rollback once an
// evidence write has failed.
func (c *Controller) guardEvidence(state, next State, reason string) (State, string) {
	c.evMu.Lock()
	err := c.evErr
	c.evMu.Unlock()
	switch {
	case err == nil, state == StateRollingBack:
		return next, reason
	case next == StateRollingBack, next == StateRefused, next == StateRolledBack, next == StateRollbackFailed:
		return next, reason
	case state.Changed():
		return StateRollingBack, "evidence not written: " + err.Error()
	default:
		return StateRefused, "evidence not written: " + err.Error()
	}
}

func (c *Controller) notify(ctx context.Context, event, text string) {
	if c.Notify == nil {
		return
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.Notify(nctx, event, text); err != nil {
		c.event(evidence.NotifyFailed{Event: event, Error: err.Error()})
		return
	}
	c.event(evidence.Notified{Event: event})
}

func (c *Controller) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "%s  %s\n", c.Clock.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}
