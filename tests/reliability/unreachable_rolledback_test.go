package reliability

// An instance whose admin API cannot be reached during apply was never
// changed: the run rolls back the others and, since that instance's
// /healthz still reports change.from, ends rolled-back (exit 3), not
// rollback-failed.

import (
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
)

func TestInstanceUnreachableEndsRolledBack(t *testing.T) {
	res := runUnreachable(t)
	if res.code != poolpilot.ExitFailed || res.State != string(change.StateRolledBack) {
		t.Fatalf("exit %d state %s, want 3 rolled-back: every instance is at change.from", res.code, res.State)
	}
}
