package change

import (
	"context"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
)

// TestAuditIsTheJournalsProjection runs plans with an evidence folder as
// the recorder and replays both logs: every journal state record has
// exactly its state_change, in order — the terminal one written by Finish
// before the record, as the runner does.
func TestAuditIsTheJournalsProjection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		soak   Verdict
		finish bool
		want   State
	}{
		{"success", Verdict{}, false, StateSucceeded},
		{"success closed by Finish", Verdict{}, true, StateSucceeded},
		{"rollback closed by Finish", Verdict{Rollback: true, Criterion: "latency_high", Role: "rollback", Reason: "p95 held"}, true, StateRolledBack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, threeInstancePlan(t), "")
			f, err := evidence.Open(t.TempDir(), evidence.Options{Plan: "p", RunID: "r", Clock: h.clock})
			if err != nil {
				t.Fatal(err)
			}
			h.c.Recorder = f
			h.c.Phases.Soak = func(context.Context) (Verdict, error) { return tc.soak, nil }
			if tc.finish {
				h.c.Finish = func(_ context.Context, out Outcome) error {
					from := ReplayRecords(h.c.Journal.Records()).State
					if err := f.Record(StateChange(from, StateRecord(out.State, out.Reason))); err != nil {
						return err
					}
					_, err := f.Close()
					return err
				}
			}
			out, err := h.c.Run(context.Background())
			if err != nil || out.State != tc.want {
				t.Fatalf("outcome %+v err %v", out, err)
			}
			if err := CheckProjection(h.c.Journal.Records(), f.Lines()); err != nil {
				t.Fatal(err)
			}
			// The check can fail: a journal record without its projection.
			recs := append(h.c.Journal.Records(), StateRecord(StateRollingBack, "extra"))
			if err := CheckProjection(recs, f.Lines()); err == nil {
				t.Fatal("a journal state without its state_change passed")
			}
		})
	}
}
