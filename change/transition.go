package change

import (
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
)

// A transition of a run is written once. The journal (journal.jsonl) is
// the controller's write-ahead log: its state record is fsynced before the
// state's side effects, and resume replays the journal alone. The audit
// log's state_change is the projection of that record (StateChange),
// written after it by the controller — or, for a terminal state, by the
// closing evidence just before the record is journalled (Controller.Finish
// closes the folder first). Nothing replays state_change to run a plan;
// the report, the dashboard and evidence verify read it.

// RecordState is the Kind of a journal state record.
const RecordState = "state"

// StateRecord is the journal record of entering state to for reason.
func StateRecord(to State, reason string) Record {
	return Record{Kind: RecordState, State: to, Reason: reason}
}

// StateChange is the audit projection of the journal state record rec,
// entered from state from.
func StateChange(from State, rec Record) evidence.StateChange {
	return evidence.StateChange{From: string(from), To: string(rec.State), Reason: rec.Reason}
}

// Transition journals the move from state from to state to (fsynced) and
// returns its audit projection, for the caller to record.
func Transition(j *Journal, from, to State, reason string, now time.Time) (evidence.StateChange, error) {
	rec := StateRecord(to, reason)
	if _, err := j.Append(rec, now); err != nil {
		return evidence.StateChange{}, err
	}
	return StateChange(from, rec), nil
}

// CheckProjection checks that an audit log holds exactly the projection of
// a journal's state records, in order: one state_change per state record,
// from the state before it. It returns the first difference.
func CheckProjection(recs []Record, lines []evidence.Line) error {
	dec := evidence.NewDecoder(lines)
	var audited []evidence.StateChange
	for _, l := range lines {
		if l.Event != evidence.EventStateChange {
			continue
		}
		sc, err := dec.StateChange(l)
		if err != nil {
			return err
		}
		audited = append(audited, sc)
	}
	var from State
	i := 0
	for _, r := range recs {
		if r.Kind != RecordState {
			continue
		}
		want := StateChange(from, r)
		if i >= len(audited) {
			return fmt.Errorf("journal state %d (%s → %s) has no state_change", i+1, want.From, want.To)
		}
		if audited[i] != want {
			return fmt.Errorf("state_change %d is %+v, the journal's projection %+v", i+1, audited[i], want)
		}
		from, i = r.State, i+1
	}
	if i < len(audited) {
		return fmt.Errorf("state_change %d (%s → %s) has no journal state record", i+1, audited[i].From, audited[i].To)
	}
	return nil
}
