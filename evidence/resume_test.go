package evidence_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// refuse records the run's plan and end (a closed folder must hold the
// plan and a final state).
func refuse(t *testing.T, f *evidence.Folder) {
	t.Helper()
	if err := f.Write(evidence.FilePlan, []byte("name: p\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Append(evidence.EventStateChange, evidence.StateChange{From: "preflight", To: "refused"}); err != nil {
		t.Fatal(err)
	}
}

// openRun makes an open (not closed) run with a few lines and a file.
func openRun(t *testing.T) *evidence.Folder {
	t.Helper()
	clock := evidencetest.NewClock(evidencetest.Start)
	f, err := evidence.Open(t.TempDir(), evidence.Options{Plan: "Phase 1 Pool Scaling", RunID: "r1", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got := filepath.Base(filepath.Dir(f.Dir())); got != "phase_1_pool_scaling" {
		t.Fatalf("plan folder %q", got)
	}
	if err := f.Append(evidence.EventStateChange, evidence.StateChange{From: "", To: "preflight"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Write("checklist.json", []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestResumeCutsTornLineAndContinuesChain(t *testing.T) {
	f := openRun(t)
	seq, _ := f.Head()
	path := filepath.Join(f.Dir(), evidence.FileAudit)
	a, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	a.WriteString(`{"seq":99,"time":"2026-02-01T02:0`) // a crash mid-append
	a.Close()
	res, _ := evidence.Verify(f.Dir(), nil)
	if res.First() == nil || res.Problems[1].Kind != evidence.ProblemTornLine {
		t.Fatalf("torn line not reported: %+v", res.Problems)
	}
	g, err := evidence.Resume(f.Dir(), evidence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := g.Resumed()
	if r.TornLine == nil || r.TornLine.Line != int(seq)+1 || r.TornLine.Bytes != 33 || r.AfterSeq != seq {
		t.Fatalf("resume info %+v (torn %+v)", r, r.TornLine)
	}
	if err := g.Append(evidence.EventNote, evidence.Note{Text: "after the crash"}); err != nil {
		t.Fatal(err)
	}
	refuse(t, g)
	if _, err := g.Close(); err != nil {
		t.Fatal(err)
	}
	res, err = evidence.Verify(g.Dir(), nil)
	if err != nil || !res.OK {
		t.Fatalf("resumed run does not verify: %v %+v", err, res.Problems)
	}
	lines := g.Lines()
	if lines[seq].Event != evidence.EventRunResumed {
		t.Fatalf("line after the last valid one is %s, want run_resumed", lines[seq].Event)
	}
}

func TestResumeRefusesBrokenChainAndClosedRun(t *testing.T) {
	f := openRun(t)
	path := filepath.Join(f.Dir(), evidence.FileAudit)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(b), "preflight", "preflighx", 1)), 0o644)
	if _, err := evidence.Resume(f.Dir(), evidence.Options{}); err == nil || !strings.Contains(err.Error(), "refusing to continue a broken audit chain: line 2") {
		t.Fatalf("resume of an edited log: %v", err)
	}
	os.WriteFile(path, b, 0o644)
	g, err := evidence.Resume(f.Dir(), evidence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := evidence.Resume(f.Dir(), evidence.Options{}); !errors.Is(err, evidence.ErrClosed) {
		t.Fatalf("resume of a closed run: %v", err)
	}
	if err := g.Append(evidence.EventNote, nil); !errors.Is(err, evidence.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
}

// A crash after a file's rename but before its file_written line: Resume
// records the file as recovered, so the folder verifies again.
func TestResumeRecordsUnloggedFile(t *testing.T) {
	f := openRun(t)
	os.WriteFile(filepath.Join(f.Dir(), "checklist.json"), []byte(`{"items":[]}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(f.Dir(), "config_diff.txt"), []byte("-max 10\n+max 200\n"), 0o644)
	g, err := evidence.Resume(f.Dir(), evidence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rec []string
	for _, l := range g.Lines() {
		if l.Event == evidence.EventFileRecovered {
			rec = append(rec, evidence.NewDecoder(g.Lines()).Describe(l))
		}
	}
	if len(rec) != 2 || !strings.Contains(rec[0], "checklist.json") || !strings.Contains(rec[1], "config_diff.txt") {
		t.Fatalf("recovered files: %q", rec)
	}
	refuse(t, g)
	g.Close()
	if res, err := evidence.Verify(g.Dir(), nil); err != nil || !res.OK {
		t.Fatalf("verify: %v %+v", err, res.Problems)
	}
}

func TestOpenRefusesBadInput(t *testing.T) {
	root := t.TempDir()
	for _, o := range []evidence.Options{{Plan: "  "}, {Plan: "p", RunID: "../x"}, {Plan: "p", Secrets: []string{"ab"}}} {
		if _, err := evidence.Open(root, o); err == nil {
			t.Errorf("Open(%+v) accepted", o)
		}
	}
	f, err := evidence.Open(root, evidence.Options{Plan: "p", RunID: "same"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := evidence.Open(root, evidence.Options{Plan: "p", RunID: "same"}); err == nil {
		t.Error("Open reused an existing run folder")
	}
	for _, n := range []string{"audit.jsonl", "audit.head", "../x", "sub/x", ".hidden", ""} {
		if err := f.Write(n, nil); err == nil {
			t.Errorf("Write(%q) accepted", n)
		}
	}
	if err := f.Append("state change", nil); err == nil {
		t.Error("event with a space accepted")
	}
	if err := f.Append(evidence.EventNote, []int{1}); err == nil {
		t.Error("non-object data accepted")
	}
}

func TestVerifyBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{filepath.Join(dir, "nope"), dir} {
		if _, err := evidence.Verify(d, nil); !errors.Is(err, evidence.ErrNotEvidence) {
			t.Errorf("Verify(%s): %v", d, err)
		}
	}
}

func TestRunIDSortable(t *testing.T) {
	a, _ := evidence.NewRunID(evidencetest.Start, nil)
	b, _ := evidence.NewRunID(evidencetest.Start.Add(1e9), nil)
	if !(a < b) || len(a) != len("20260201T020000Z-abcdef") || !strings.HasPrefix(a, "20260201T020000Z-") {
		t.Fatalf("run ids %s %s", a, b)
	}
}

func TestApprovalSignature(t *testing.T) {
	a := evidence.SignApproval(evidencetest.Key, evidence.Approval{By: "alice", Statement: "I approve Phase 1 execution", Time: evidencetest.Start, PlanSHA256: strings.Repeat("ab", 32)})
	if err := evidence.VerifyApproval(evidencetest.PublicKey, a); err != nil {
		t.Fatal(err)
	}
	a.PlanSHA256 = strings.Repeat("cd", 32)
	if err := evidence.VerifyApproval(evidencetest.PublicKey, a); err == nil || !strings.Contains(err.Error(), "bad signature") {
		t.Fatalf("edited approval: %v", err)
	}
}

func TestKeyFiles(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "k")
	kp, pp, err := evidence.WriteKeyPair(prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(kp); st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", st.Mode())
	}
	k, err := evidence.LoadPrivateKey(kp)
	if err != nil {
		t.Fatal(err)
	}
	p, err := evidence.LoadPublicKey(pp)
	if err != nil {
		t.Fatal(err)
	}
	if !evidence.VerifySignature(p, []byte("x"), evidence.Sign(k, []byte("x"))) {
		t.Fatal("key pair does not verify")
	}
	if _, _, err := evidence.WriteKeyPair(prefix, nil); err == nil {
		t.Fatal("keygen overwrote a key")
	}
	// A private key others can read is refused, as ssh refuses it.
	for _, mode := range []os.FileMode{0o644, 0o640, 0o602} {
		if err := os.Chmod(kp, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := evidence.LoadPrivateKey(kp); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: %v, want a refusal saying chmod 600", mode, err)
		}
	}
	if err := os.Chmod(kp, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := evidence.LoadPrivateKey(kp); err != nil {
		t.Errorf("mode 0400: %v", err)
	}
	if _, err := evidence.LoadPublicKey(kp); err == nil {
		t.Fatal("private key accepted as public key")
	}
}
