//go:build pending

package reliability

// PENDING (package change, not ours to edit): when an instance's apply
// fails with a connection refused (nothing was changed there), the
// controller still sends it a rollback PUT, which fails too, and the run
// ends rollback-failed (exit 1) although every instance reports
// change.from. Fix: after a failed rollback step, read the instance's
// /healthz; when it reports change.from, count the instance as rolled back
// (or skip the rollback of an instance whose apply never connected).
// Run with: go test -tags pending -run TestInstanceUnreachableEndsRolledBack ./reliability/

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
