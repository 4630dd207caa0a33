package change

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// An operator who leaves the run as it is stops it where it is: no
// rollback, the journal keeps the state for a resume.
func TestLeaveAsIsStopsWithoutRollback(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	ctx, cancel := context.WithCancelCause(context.Background())
	h.c.Phases.Soak = func(ctx context.Context) (Verdict, error) {
		cancel(ErrLeaveAsIs)
		<-ctx.Done()
		return Verdict{}, ctx.Err()
	}
	out, err := h.c.Run(ctx)
	if !errors.Is(err, ErrLeaveAsIs) || out.State != StateSoak {
		t.Fatalf("outcome %+v, err %v; want soak and ErrLeaveAsIs", out, err)
	}
	h.allAt(t, p.Change.To)
	if rp := ReplayRecords(h.c.Journal.Records()); rp.State != StateSoak {
		t.Fatalf("journal state %s", rp.State)
	}
	// A resume continues the soak and succeeds.
	h.c.Phases.Soak = nil
	out, err = h.c.Run(context.Background())
	if err != nil || out.State != StateSucceeded {
		t.Fatalf("resume: %+v %v", out, err)
	}
}

// A cancellation with a cause (a manual rollback) names it in the reason,
// and OnState sees every state.
func TestCancelCauseIsTheRollbackReason(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	var seen []State
	h.c.OnState = func(s State) { seen = append(seen, s) }
	ctx, cancel := context.WithCancelCause(context.Background())
	h.c.Phases.LoadTest = func(ctx context.Context) (Verdict, error) {
		cancel(errors.New("manual rollback by Jane: p99 alarms"))
		<-ctx.Done()
		return Verdict{}, ctx.Err()
	}
	out, err := h.c.Run(ctx)
	if err != nil || out.State != StateRolledBack || !strings.Contains(out.Reason, "load test interrupted: manual rollback by Jane: p99 alarms") {
		t.Fatalf("outcome %+v, err %v", out, err)
	}
	h.allAt(t, p.Change.From)
	want := []State{StatePreflight, StateAwaitingApproval, StateApproved, StateBaseline, StateApplying, StateVerifying, StateLoadTest, StateRollingBack, StateRolledBack}
	if len(seen) != len(want) {
		t.Fatalf("OnState saw %v", seen)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("OnState saw %v, want %v", seen, want)
		}
	}
}

// A success criterion that fails during the soak rolls back with its
// role recorded; a manual verdict records no criterion_fired.
func TestSuccessCriterionVerdictRollsBack(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	h.c.Phases.Soak = func(context.Context) (Verdict, error) {
		return Verdict{Rollback: true, Criterion: "pool_wait_p95", Role: "success", Reason: "pool.wait_p95_ms 15 violates < 10"}, nil
	}
	out, err := h.c.Run(context.Background())
	if err != nil || out.State != StateRolledBack || !strings.HasPrefix(out.Reason, "pool_wait_p95: ") {
		t.Fatalf("%+v %v", out, err)
	}
	found := false
	for _, e := range h.rec.Events() {
		found = found || e == "criterion_fired"
	}
	if !found {
		t.Error("no criterion_fired event")
	}
}
