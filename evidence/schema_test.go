package evidence

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// openSchema1 opens a run folder as a poolpilot before the audit schema
// did: its run_opened records no schema.
func openSchema1(t *testing.T) *Folder {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "old")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := os.OpenFile(filepath.Join(dir, FileAudit), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Plan: "p", RunID: "old"}
	red, err := opts.defaults()
	if err != nil {
		t.Fatal(err)
	}
	f := newFolder(dir, opts, red, a)
	if err := f.appendLocked("", EventRunOpened, RunOpened{Plan: "p", RunID: "old"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// The old shapes, as schema 1 writers wrote them.
var oldShapes = []struct {
	event string
	data  map[string]any
}{
	{EventStateChange, map[string]any{"state": "preflight"}},
	{EventApply, map[string]any{"instance": "a", "max": 200, "min": 20, "driver": "admin"}},
	{EventCriterionFired, map[string]any{"criterion": "latency_high", "role": "rollback"}},
	{EventStateChange, map[string]any{"state": "rolling-back", "reason": "latency_high"}},
}

// events are the lines of f other than file_written.
func events(f *Folder) []Line {
	var out []Line
	for _, l := range f.Lines() {
		if l.Event != EventFileWritten {
			out = append(out, l)
		}
	}
	return out
}

func appendOld(t *testing.T, f *Folder) {
	t.Helper()
	for _, o := range oldShapes {
		if err := f.Append(o.event, o.data); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSchema1FixtureVerifies: a folder written before the audit schema was
// recorded (testdata/schema1, the golden rollback folder of that time)
// still verifies and reads as schema 1.
func TestSchema1FixtureVerifies(t *testing.T) {
	dir := filepath.Join("testdata", "schema1", "rollback")
	res, err := Verify(dir, nil)
	if err != nil || !res.OK {
		t.Fatalf("verify: %v %+v", err, res.Problems)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileAudit))
	if err != nil {
		t.Fatal(err)
	}
	var lines []Line
	for _, rl := range ReadAuditLines(b) {
		lines = append(lines, rl.Line)
	}
	d := NewDecoder(lines)
	if !d.Legacy {
		t.Fatal("a run_opened without schema must read as schema 1")
	}
	var last string
	for _, l := range lines {
		if l.Event == EventStateChange {
			sc, err := d.StateChange(l)
			if err != nil {
				t.Fatal(err)
			}
			last = sc.To
		}
	}
	if last != "rolled-back" {
		t.Fatalf("last state %q, want rolled-back", last)
	}
}

// TestSchema1OldShapesRead: in a schema 1 log the synonyms of the old
// writers (state, max/min, criterion) are read as the typed shapes.
func TestSchema1OldShapesRead(t *testing.T) {
	f := openSchema1(t)
	appendOld(t, f)
	lines := events(f)
	d := NewDecoder(lines)
	sc, err := d.StateChange(lines[1])
	if err != nil || sc.To != "preflight" {
		t.Fatalf("state_change: %+v %v", sc, err)
	}
	a, err := d.Apply(lines[2])
	if err != nil || a.ToMax != 200 || a.ToMin != 20 {
		t.Fatalf("apply: %+v %v", a, err)
	}
	cf, err := d.CriterionFired(lines[3])
	if err != nil || cf.Name != "latency_high" {
		t.Fatalf("criterion_fired: %+v %v", cf, err)
	}
	if _, err := f.Close(); err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(filepath.Join(f.Dir(), FileExecutionLog))
	if !strings.Contains(string(log), "## State: rolling-back") || !strings.Contains(string(log), "max 200, min 20") {
		t.Fatalf("execution log:\n%s", log)
	}
	res, err := Verify(f.Dir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		if p.Kind == ProblemEventShape {
			t.Errorf("schema 1 log flagged: %+v", p)
		}
	}
}

// TestSchema2OldShapeFlagged: a log this poolpilot opened (schema 2) holds
// one shape per event; an old shape in it is refused by the decoder and
// flagged by verify.
func TestSchema2OldShapeFlagged(t *testing.T) {
	f, err := Open(t.TempDir(), Options{Plan: "p", RunID: "new"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Record(StateChange{To: "preflight"}); err != nil {
		t.Fatal(err)
	}
	appendOld(t, f)
	lines := events(f)
	d := NewDecoder(lines)
	if d.Legacy {
		t.Fatal("a folder opened now must be schema 2")
	}
	if sc, err := d.StateChange(lines[1]); err != nil || sc.To != "preflight" {
		t.Fatalf("typed state_change: %+v %v", sc, err)
	}
	for i, o := range oldShapes {
		if err := d.Check(lines[2+i]); !errors.Is(err, ErrEventShape) {
			t.Errorf("%s %v: got %v, want ErrEventShape", o.event, o.data, err)
		}
	}
	if s := d.Describe(lines[2]); !strings.HasPrefix(s, "UNREADABLE") {
		t.Errorf("describe: %q", s)
	}
	if _, err := f.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(f.Dir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var flagged []int
	for _, p := range res.Problems {
		if p.Kind == ProblemEventShape {
			flagged = append(flagged, p.Line)
		}
	}
	if res.OK || len(flagged) != len(oldShapes) || flagged[0] != int(lines[2].Seq) {
		t.Fatalf("verify flagged lines %v of %+v", flagged, res.Problems)
	}
}
