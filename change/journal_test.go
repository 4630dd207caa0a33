package change

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJournalSurvivesReopenAndDropsTornTail(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)
	j, err := OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	j.Append(Record{Kind: "state", State: StateApplying}, now)
	j.Append(Record{Kind: "apply", Instance: "a", Max: 200, Min: 20}, now)
	j.Append(Record{Kind: "applied", Instance: "a", Max: 200, Min: 20}, now)
	j.Append(Record{Kind: "apply", Instance: "b", Max: 200, Min: 20}, now)
	j.Close()
	// a crash in the middle of the next write leaves a torn line
	f, _ := os.OpenFile(filepath.Join(dir, JournalFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":5,"kind":"appl`)
	f.Close()

	j, err = OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	recs := j.Records()
	if len(recs) != 4 {
		t.Fatalf("%d records after reopen, want 4", len(recs))
	}
	r := ReplayRecords(recs)
	if r.State != StateApplying || !r.Touched["a"] || !r.Touched["b"] {
		t.Errorf("replay %+v", r)
	}
	if _, ok := r.Confirmed["b"]; ok {
		t.Error("b confirmed although only its intent was written")
	}
	if got := r.Confirmed["a"]; got != [2]int{200, 20} {
		t.Errorf("a confirmed %v", got)
	}
	rec, err := j.Append(Record{Kind: "applied", Instance: "b", Max: 200, Min: 20}, now)
	if err != nil || rec.Seq != 5 {
		t.Fatalf("append after torn tail: seq %d err %v", rec.Seq, err)
	}
}

func TestJournalRefusesEditedLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	os.WriteFile(path, []byte("{\"seq\":1,\"kind\":\"state\"}\n{\"seq\":3,\"kind\":\"state\"}\n"), 0o600)
	if _, err := OpenJournal(dir); err == nil || !strings.Contains(err.Error(), "seq 3") {
		t.Errorf("gap in seq: %v", err)
	}
	os.WriteFile(path, []byte("{\"seq\":1,\"kind\":\"state\"}\nnot json\n"), 0o600)
	if _, err := OpenJournal(dir); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("garbage line: %v", err)
	}
}

func TestCanMove(t *testing.T) {
	for i := 0; i < len(Forward)-1; i++ {
		if err := CanMove(Forward[i], Forward[i+1]); err != nil {
			t.Errorf("%s -> %s: %v", Forward[i], Forward[i+1], err)
		}
	}
	bad := [][2]State{
		{StatePreflight, StateApplying},
		{StateSucceeded, StateRollingBack},
		{StateApproved, StateRollingBack},
		{StateSoak, StateRefused},
		{StateSoak, StateRolledBack},
		{StateRolledBack, StatePreflight},
	}
	for _, b := range bad {
		if err := CanMove(b[0], b[1]); err == nil {
			t.Errorf("%s -> %s allowed", b[0], b[1])
		}
	}
	for _, s := range []State{StateApplying, StateVerifying, StateLoadTest, StateSoak} {
		if err := CanMove(s, StateRollingBack); err != nil {
			t.Errorf("%s -> rolling-back: %v", s, err)
		}
	}
	if err := CanMove(StateRollingBack, StateRolledBack); err != nil {
		t.Error(err)
	}
	if err := CanMove(StatePreflight, StateRefused); err != nil {
		t.Error(err)
	}
}
