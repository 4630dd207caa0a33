package change

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
)

// JournalFile is the journal's name inside a run's folder.
const JournalFile = "journal.jsonl"

// Record is one journal line.
type Record struct {
	Seq  int       `json:"seq"`
	Time time.Time `json:"time"`
	// Kind is state, apply (intent, written before the driver is called),
	// applied (confirmed), or note.
	Kind     string          `json:"kind"`
	State    State           `json:"state,omitempty"`
	Instance string          `json:"instance,omitempty"`
	Max      int             `json:"max,omitempty"`
	Min      int             `json:"min,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// Journal is the run's durable write-ahead log: every record is fsynced
// before Append returns, so that it is on disk before the side effect it
// announces happens.
type Journal struct {
	mu   sync.Mutex
	f    *evidence.JSONL
	seq  int
	recs []Record
}

// OpenJournal opens (or creates) the journal in dir and reads what it holds.
// A torn last line, left by a crash in the middle of a write, is dropped
// (it was never acknowledged, so its side effect never happened).
func OpenJournal(dir string) (*Journal, error) {
	j := &Journal{}
	f, err := evidence.OpenJSONL(filepath.Join(dir, JournalFile), "journal", func(n int, line []byte) error {
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			// A complete but unreadable line is corruption, not a torn write.
			return fmt.Errorf("line %d is not a journal record: %v", n, err)
		}
		if rec.Seq != n {
			return fmt.Errorf("line %d has seq %d: the journal was edited", n, rec.Seq)
		}
		j.recs = append(j.recs, rec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	j.f, j.seq = f, len(j.recs)
	return j, nil
}

// Append writes rec (seq and time filled in) and fsyncs it.
func (j *Journal) Append(rec Record, now time.Time) (Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	rec.Seq = j.seq + 1
	rec.Time = now.UTC()
	if err := j.f.Append(rec); err != nil {
		return rec, err
	}
	j.seq = rec.Seq
	j.recs = append(j.recs, rec)
	return rec, nil
}

// Records returns a copy of every record.
func (j *Journal) Records() []Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Record(nil), j.recs...)
}

// Close closes the file.
func (j *Journal) Close() error { return j.f.Close() }

// Replay summarises a journal: the last state, the instances a change may
// have touched (an apply intent was written, whether or not it completed)
// and the size each was last confirmed at.
type Replay struct {
	State     State
	Reason    string
	Touched   map[string]bool
	Confirmed map[string][2]int // instance → {max, min} last confirmed
}

// ReplayRecords folds records into a Replay.
func ReplayRecords(recs []Record) Replay {
	r := Replay{Touched: map[string]bool{}, Confirmed: map[string][2]int{}}
	for _, rec := range recs {
		switch rec.Kind {
		case RecordState:
			r.State = rec.State
			if rec.Reason != "" {
				r.Reason = rec.Reason
			}
		case "apply":
			r.Touched[rec.Instance] = true
			delete(r.Confirmed, rec.Instance)
		case "applied":
			r.Confirmed[rec.Instance] = [2]int{rec.Max, rec.Min}
		}
	}
	return r
}
