package change

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
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
	f    *os.File
	seq  int
	recs []Record
}

// OpenJournal opens (or creates) the journal in dir and reads what it holds.
// A torn last line, left by a crash in the middle of a write, is dropped
// (it was never acknowledged, so its side effect never happened).
func OpenJournal(dir string) (*Journal, error) {
	path := filepath.Join(dir, JournalFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	recs, good, err := readRecords(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: drop torn tail: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	j := &Journal{f: f, recs: recs}
	if n := len(recs); n > 0 {
		j.seq = recs[n-1].Seq
	}
	return j, nil
}

// readRecords reads complete lines; it returns the offset after the last
// complete, valid line.
func readRecords(r io.Reader) ([]Record, int64, error) {
	var recs []Record
	var off int64
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return recs, off, nil // no newline: torn (or empty) tail
		}
		if err != nil {
			return nil, 0, err
		}
		var rec Record
		if jerr := json.Unmarshal(bytes.TrimSpace(line), &rec); jerr != nil {
			// A complete but unreadable line is corruption, not a torn write.
			return nil, 0, fmt.Errorf("line %d is not a journal record: %v", len(recs)+1, jerr)
		}
		if rec.Seq != len(recs)+1 {
			return nil, 0, fmt.Errorf("line %d has seq %d: the journal was edited", len(recs)+1, rec.Seq)
		}
		recs = append(recs, rec)
		off += int64(len(line))
	}
}

// Append writes rec (seq and time filled in) and fsyncs it.
func (j *Journal) Append(rec Record, now time.Time) (Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	rec.Seq = j.seq + 1
	rec.Time = now.UTC()
	b, err := json.Marshal(rec)
	if err != nil {
		return rec, fmt.Errorf("journal: %w", err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return rec, fmt.Errorf("journal write: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return rec, fmt.Errorf("journal fsync: %w", err)
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
