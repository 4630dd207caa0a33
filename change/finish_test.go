package change

import (
	"context"
	"errors"
	"testing"
)

// The closing evidence comes before the verdict: Finish runs before the
// terminal state is journalled; when it fails the journal stays in soak and
// Run returns its error; a resumed run with the outcome pending runs no
// step and only declares it.
func TestFinishBeforeTheTerminalState(t *testing.T) {
	p := threeInstancePlan(t)
	h := newHarness(t, p, "")
	h.c.Phases.Soak = func(ctx context.Context) (Verdict, error) { return Verdict{}, nil }
	full := errors.New("no space left on device")
	var seen []State
	h.c.Finish = func(ctx context.Context, out Outcome) error {
		seen = append(seen, h.states()[len(h.states())-1])
		if out.State != StateSucceeded {
			t.Errorf("Finish with %s, want succeeded", out.State)
		}
		return full
	}
	out, err := h.c.Run(context.Background())
	if !errors.Is(err, full) || out.State != StateSoak {
		t.Fatalf("Run with a failing Finish: %+v, %v", out, err)
	}
	if last := h.states()[len(h.states())-1]; last != StateSoak || len(seen) != 1 || seen[0] != StateSoak {
		t.Fatalf("journal ends %s (Finish saw %v), want soak: succeeded is journalled only after the evidence", last, seen)
	}
	// Resumed with the outcome pending: no step runs (the soak is not
	// watched again), the outcome is declared once Finish succeeds.
	h2 := newHarness(t, p, h.dir)
	h2.c.Phases.Soak = func(ctx context.Context) (Verdict, error) { t.Error("the soak ran again"); return Verdict{}, nil }
	finished := false
	h2.c.Finish = func(ctx context.Context, out Outcome) error { finished = true; return nil }
	h2.c.Pending = &Outcome{State: StateSucceeded}
	h.c.Journal.Close()
	out, err = h2.c.Run(context.Background())
	if err != nil || out.State != StateSucceeded || !finished {
		t.Fatalf("resume with a pending outcome: %+v, %v (finished %v)", out, err, finished)
	}
	if last := h2.states()[len(h2.states())-1]; last != StateSucceeded {
		t.Errorf("journal ends %s, want succeeded", last)
	}
}
