package runner

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
)

// Samples and the closing record survive a reopen; a torn last line (a
// crash mid-write) is cut off; the journal keeps disk space reserved
// ahead of its end.
func TestSamplesJournalReopenAndTornTail(t *testing.T) {
	dir := t.TempDir()
	j, err := openSamplesJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)
	v := 0.01
	var ss []evidence.Sample
	for i := range 3 {
		ss = append(ss, evidence.Sample{Time: t0.Add(time.Duration(i) * time.Second), ErrorRate: &v, States: map[string]string{"error_rate": "ok"}})
	}
	// Two flushes of overlapping series journal each sample once.
	if err := j.appendSamples(ss[:2]); err != nil {
		t.Fatal(err)
	}
	if err := j.appendSamples(ss); err != nil {
		t.Fatal(err)
	}
	after := evidence.Aggregate{Requests: 10}
	closing := &closingRecord{State: change.StateSucceeded, Time: t0, Monitoring: &evidence.SustainedMonitoring{Verdict: evidence.VerdictPass}}
	if err := j.append(sampleRecord{Kind: recAfter, After: &after}, sampleRecord{Kind: recClosing, Closing: closing}); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, SamplesFile), &st); err != nil {
		t.Fatal(err)
	}
	switch {
	case j.alloc == 0:
		t.Logf("preallocation unsupported on this file system")
	case st.Blocks*512 < j.f.Size()+samplesReserve:
		t.Errorf("%d bytes allocated for %d bytes of records, want at least %d reserved", st.Blocks*512, j.f.Size(), samplesReserve)
	}
	j.Close()
	f, _ := os.OpenFile(filepath.Join(dir, SamplesFile), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"kind":"sample","sample":{"time":"2026-02-01T02:0`) // torn
	f.Close()
	j, err = openSamplesJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if got := j.all(); len(got) != 3 || !got[2].Time.Equal(t0.Add(2*time.Second)) || *got[0].ErrorRate != v {
		t.Fatalf("samples after reopen: %+v", got)
	}
	rec, a := j.closed()
	if rec == nil || rec.State != change.StateSucceeded || rec.Monitoring.Verdict != evidence.VerdictPass || a == nil || a.Requests != 10 {
		t.Fatalf("closing %+v, after %+v", rec, a)
	}
	if !j.lastTime().Equal(t0.Add(2 * time.Second)) {
		t.Errorf("lastTime %s", j.lastTime())
	}
	// Appends go on after the cut.
	s := evidence.Sample{Time: t0.Add(3 * time.Second)}
	if err := j.append(sampleRecord{Kind: recSample, Sample: &s}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j2, err := openSamplesJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if n := len(j2.all()); n != 4 {
		t.Errorf("%d samples after an append past the torn tail, want 4", n)
	}
}
