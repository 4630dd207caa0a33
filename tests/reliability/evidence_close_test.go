package reliability

// Evidence before verdict (issue 14, case 3): a run declares succeeded only
// once its closing evidence is written and its folder closed; the soak's
// samples are journalled as they are taken, so that a full disk or a
// SIGKILL at the end of the soak loses none of them and --resume writes
// the whole soak record.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/runner"
)

const closeSoak = 4 * time.Second

// samplesJournal counts the samples journal's sample records of a run and
// says whether it holds the closing record.
func samplesJournal(dir string) (samples int, closing bool) {
	b, _ := os.ReadFile(filepath.Join(runner.ControlDir(dir), runner.SamplesFile))
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct{ Kind string }
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		switch rec.Kind {
		case "sample":
			samples++
		case "closing":
			closing = true
		}
	}
	return samples, closing
}

// waitFor polls cond every 5 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stateTime is when a run's journal entered state.
func stateTime(t *testing.T, dir string, state change.State) time.Time {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(runner.ControlDir(dir), change.JournalFile))
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var rec change.Record
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Kind == "state" && rec.State == state {
			return rec.Time
		}
	}
	t.Fatalf("the journal of %s has no state %s", dir, state)
	return time.Time{}
}

// lastState is the last state of a run's journal.
func lastState(dir string) string {
	s := runtest.JournalStates(dir)
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// assertSoakEvidence checks the closed folder of a run that succeeded: it
// verifies, sustained_monitoring.json holds every soak sample (one per
// evaluation interval, to the soak's end) with verdict pass, and both
// comparison files exist.
func assertSoakEvidence(t *testing.T, f *runFixture, dir string) {
	t.Helper()
	if out, stderr, code := f.cli(time.Minute, "evidence", "verify", dir); code != 0 {
		t.Errorf("evidence verify: exit %d\n%s\n%s", code, out, stderr)
	}
	var sm evidence.SustainedMonitoring
	b, err := os.ReadFile(filepath.Join(dir, evidence.FileSustainedMonitoring))
	if err == nil {
		err = json.Unmarshal(b, &sm)
	}
	if err != nil {
		t.Fatalf("sustained_monitoring.json: %v", err)
	}
	interval := time.Duration(sm.IntervalSeconds * float64(time.Second))
	inSoak := 0
	var last time.Time
	for _, s := range sm.Samples {
		if !s.Time.Before(sm.Started) && !s.Time.After(sm.Ended) {
			inSoak++
		}
		last = s.Time
	}
	want := int(closeSoak/interval) - 1
	t.Logf("sustained_monitoring.json: verdict %s, %d samples (%d in the soak %s–%s, want ≥ %d)", sm.Verdict, len(sm.Samples), inSoak,
		sm.Started.Format("15:04:05.000"), sm.Ended.Format("15:04:05.000"), want)
	if sm.Verdict != evidence.VerdictPass || strings.HasPrefix(sm.Reason, "checkpoint") {
		t.Errorf("sustained_monitoring.json verdict %q (%s), want pass", sm.Verdict, sm.Reason)
	}
	if inSoak < want {
		t.Errorf("sustained_monitoring.json has %d samples in the soak, want ≥ %d (one per %s of %s)", inSoak, want, interval, closeSoak)
	}
	if sm.Ended.Sub(last) > 2*interval {
		t.Errorf("the last sample (%s) is more than two intervals before the soak's end (%s): the end of the soak was lost", last, sm.Ended)
	}
	if md, err := os.ReadFile(filepath.Join(dir, evidence.FileReportMD)); err == nil {
		t.Logf("report: %s", firstLine(grepLine(string(md), "**Verdict")))
	}
	for _, name := range []string{evidence.FileErrorRateComparison, evidence.FileLatencyComparison, evidence.FileReportMD, change.JournalFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDiskFullAtTheEndOfTheSoak: the evidence disk fills up during the
// soak and stays full to its end. The soak's samples are still journalled (the samples journal
// reserves its space), the closing evidence cannot be written: the run
// exits 1 with a PAGE line naming what is missing and does not declare
// succeeded. Once space is freed, --resume writes the same evidence from
// the journals and closes a folder that verifies.
func TestDiskFullAtTheEndOfTheSoak(t *testing.T) {
	f := newRunFixtureOn(t, "", closeSoak, nil)
	evDir := filepath.Join(f.Dir, "evidence")
	smallTmpfs(t, evDir, "4m")
	f.Approve()
	cmd := f.start("run", f.PlanFile)
	dir := f.WaitState(change.StateSoak, time.Minute)
	// The fault: the disk fills 1.5 s into the 4 s soak (by the journal's
	// clock), and stays full to its end.
	soakAt := stateTime(t, dir, change.StateSoak)
	waitFor(t, 30*time.Second, "1.5 s into the soak", func() bool { return time.Since(soakAt) >= 1500*time.Millisecond })
	fill := filepath.Join(evDir, "filler")
	if out, _ := exec.Command("dd", "if=/dev/zero", "of="+fill, "bs=64k").CombinedOutput(); !strings.Contains(string(out), "No space left") {
		t.Fatalf("filling the tmpfs: %s", out)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not end within 2 minutes")
	}
	stderr := cmd.Stderr.(*bytes.Buffer).String()
	code := cmd.ProcessState.ExitCode()
	page := firstLine(grepLine(stderr, "PAGE:"))
	t.Logf("disk full in the soak: exit %d, journal ends %s; %s", code, lastState(dir), page)
	if code != 1 || !strings.Contains(page, "evidence incomplete") || !strings.Contains(page, evidence.FileSustainedMonitoring) ||
		!strings.Contains(page, "no space left on device") || !strings.Contains(page, "--resume "+dir) {
		t.Fatalf("want exit 1 and a PAGE line naming the missing evidence, got exit %d:\n%s", code, stderr)
	}
	if st := lastState(dir); st == string(change.StateSucceeded) {
		t.Errorf("the journal declares succeeded although the evidence was not written")
	}
	if _, err := os.Stat(filepath.Join(dir, evidence.FileHead)); err == nil {
		t.Errorf("the folder was closed without its evidence")
	}
	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := f.cli(3*time.Minute, "run", f.PlanFile, "--resume", dir)
	t.Logf("resume after freeing space: exit %d, journal ends %s", code, lastState(dir))
	if code != 0 || lastState(dir) != string(change.StateSucceeded) {
		t.Fatalf("resume: exit %d, journal %v\n%s\n%s", code, runtest.JournalStates(dir), out, errOut)
	}
	if !f.AllAt(f.P.Change.To) {
		t.Errorf("succeeded but instances at %v", f.Sizes())
	}
	assertSoakEvidence(t, f, dir)
	assertNoPartialFiles(t, dir)
}

// TestKilledAtSucceededResumeWritesTheSoakEvidence: SIGKILL at the last
// moment before the run declares succeeded (its closing record journalled,
// or, for a controller that declares first, the journal saying succeeded),
// then --resume: the full soak record is written from the journals.
func TestKilledAtSucceededResumeWritesTheSoakEvidence(t *testing.T) {
	f := newRunFixture(t, closeSoak, nil)
	cmd := f.start("run", f.PlanFile)
	dir := f.WaitState(change.StateSoak, time.Minute)
	waitFor(t, time.Minute, "the closing record or succeeded in the journal", func() bool {
		_, closing := samplesJournal(dir)
		return closing || lastState(dir) == string(change.StateSucceeded)
	})
	runtest.Kill9(t, cmd)
	entries, _ := os.ReadDir(dir)
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	t.Logf("killed with journal at %s; folder holds %v", lastState(dir), files)
	out, stderr, code := f.cli(3*time.Minute, "run", f.PlanFile, "--resume", dir)
	t.Logf("resume: exit %d, journal ends %s", code, lastState(dir))
	if code != 0 || lastState(dir) != string(change.StateSucceeded) {
		t.Fatalf("resume: exit %d, journal %v\n%s\n%s", code, runtest.JournalStates(dir), out, stderr)
	}
	assertSoakEvidence(t, f, dir)
	assertNoPartialFiles(t, dir)

	// A crash between the folder's closing and the journal's succeeded:
	// --resume journals it from the closing record, writing nothing.
	journal := filepath.Join(runner.ControlDir(dir), change.JournalFile)
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
	if err := os.WriteFile(journal, []byte(strings.Join(lines[:len(lines)-1], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	head, _ := os.ReadFile(filepath.Join(dir, evidence.FileHead))
	for _, want := range []string{"the journal now records succeeded", "already ended in succeeded"} {
		out, stderr, code := f.cli(time.Minute, "run", f.PlanFile, "--resume", dir)
		if code != 0 || lastState(dir) != string(change.StateSucceeded) || !strings.Contains(stderr, want) {
			t.Errorf("resume of a closed run: exit %d, journal ends %s, want %q\n%s\n%s", code, lastState(dir), want, out, stderr)
		}
	}
	if h, _ := os.ReadFile(filepath.Join(dir, evidence.FileHead)); string(h) != string(head) {
		t.Errorf("resuming a closed run changed its audit.head")
	}
}
