package change

import "fmt"

// State is a step of a run.
type State string

// The states of a run, in order.
const (
	StatePreflight        State = "preflight"
	StateAwaitingApproval State = "awaiting-approval"
	StateApproved         State = "approved"
	StateBaseline         State = "baseline"
	StateApplying         State = "applying"
	StateVerifying        State = "verifying"
	StateLoadTest         State = "load-test"
	StateSoak             State = "soak"
	StateSucceeded        State = "succeeded"
	// StateStepping is a staircase change climbing through change.steps:
	// each step applied, verified, load-tested and watched (docs/run.md).
	StateStepping State = "stepping"
	// StateSettled ends a staircase change that kept a smaller size than
	// change.to (the best step seen), watched for the full soak: exit 0.
	StateSettled        State = "settled"
	StateRollingBack    State = "rolling-back"
	StateRolledBack     State = "rolled-back"
	StateRollbackFailed State = "rollback-failed"
	StateRefused        State = "refused"
)

// Forward is the happy path.
var Forward = []State{
	StatePreflight, StateAwaitingApproval, StateApproved, StateBaseline,
	StateApplying, StateVerifying, StateLoadTest, StateSoak, StateSucceeded,
}

// Terminal reports whether a run in s is finished.
func (s State) Terminal() bool {
	switch s {
	case StateSucceeded, StateSettled, StateRolledBack, StateRollbackFailed, StateRefused:
		return true
	}
	return false
}

// Changed reports whether instances may have been changed in state s, so
// that leaving it early requires a rollback.
func (s State) Changed() bool {
	switch s {
	case StateApplying, StateVerifying, StateLoadTest, StateSoak, StateStepping:
		return true
	}
	return false
}

// stairs are the moves of a staircase change besides the happy path:
// baseline → stepping; stepping → soak (change.to reached); stepping →
// applying (settle: apply the best step back); soak → settled.
var stairs = map[[2]State]bool{
	{StateBaseline, StateStepping}: true,
	{StateStepping, StateSoak}:     true,
	{StateStepping, StateApplying}: true,
	{StateSoak, StateSettled}:      true,
}

// CanMove reports whether a run may move from one state to another.
func CanMove(from, to State) error {
	if from.Terminal() {
		return fmt.Errorf("run already ended in %s", from)
	}
	switch to {
	case StateRefused:
		if from.Changed() || from == StateRollingBack {
			return fmt.Errorf("cannot refuse in %s: the change has started; roll back instead", from)
		}
		return nil
	case StateRollingBack:
		if !from.Changed() {
			return fmt.Errorf("nothing to roll back in %s", from)
		}
		return nil
	case StateRolledBack, StateRollbackFailed:
		if from != StateRollingBack {
			return fmt.Errorf("%s only follows rolling-back (now %s)", to, from)
		}
		return nil
	}
	if stairs[[2]State{from, to}] {
		return nil
	}
	for i, s := range Forward[:len(Forward)-1] {
		if s == from && Forward[i+1] == to {
			return nil
		}
	}
	return fmt.Errorf("cannot move from %s to %s", from, to)
}
