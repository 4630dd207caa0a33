package evidence

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// halfWriter writes half of what it is given, then fails.
type halfWriter struct{ w io.Writer }

func (h halfWriter) Write(p []byte) (int, error) {
	n, _ := h.w.Write(p[:len(p)/2])
	return n, errors.New("disk on fire")
}

func TestWriteFailingMidwayLeavesNoFile(t *testing.T) {
	f, err := Open(t.TempDir(), Options{Plan: "p", RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Write("a.txt", []byte("version one\n")); err != nil {
		t.Fatal(err)
	}
	f.hooks = &hooks{wrap: func(w io.Writer) io.Writer { return halfWriter{w} }}
	err = f.Write("a.txt", []byte(strings.Repeat("version two ", 100)))
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("write error %v", err)
	}
	if err := f.Write("b.txt", []byte(strings.Repeat("new file ", 100))); err == nil {
		t.Fatal("failed write of a new file reported success")
	}
	f.hooks = nil
	if b, _ := os.ReadFile(filepath.Join(f.Dir(), "a.txt")); string(b) != "version one\n" {
		t.Fatalf("a.txt after failed write: %q", b)
	}
	if _, err := os.Stat(filepath.Join(f.Dir(), "b.txt")); !os.IsNotExist(err) {
		t.Fatalf("b.txt exists after a failed write: %v", err)
	}
	assertNoTemp(t, f.Dir())
	if _, err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if res, err := Verify(f.Dir(), nil); err != nil || !res.OK {
		t.Fatalf("verify after failed writes: %v %+v", err, res.Problems)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if isTemp(e.Name()) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

const crashEnv = "EVIDENCE_CRASH_HELPER_DIR"

// TestCrashHelper is run in a subprocess by TestCrashBetweenWriteAndRename:
// it writes a file and blocks between fsync and rename until killed.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("helper for TestCrashBetweenWriteAndRename")
	}
	f, err := Resume(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.hooks = &hooks{beforeRename: func(string) {
		os.Stdout.WriteString("ready\n")
		select {} // killed here
	}}
	f.Write("pre_change_config.json", []byte(strings.Repeat(`{"version":2}`, 1000)))
	t.Fatal("write returned: the parent should have killed this process")
}

// TestCrashBetweenWriteAndRename kills a writer (SIGKILL) after its
// temporary file is complete but before the rename: the final name must
// still hold the old, complete content; Verify reports the leftover; Resume
// cleans it up, records it, and the chain goes on.
func TestCrashBetweenWriteAndRename(t *testing.T) {
	f, err := Open(t.TempDir(), Options{Plan: "p", RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	const v1 = `{"version":1}` + "\n"
	if err := f.Write("pre_change_config.json", []byte(v1)); err != nil {
		t.Fatal(err)
	}
	f.audit.Close() // the parent lets the child continue the run
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+f.Dir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if s.Text() == "ready" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			t.Fatal("helper ended without reaching the rename")
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("helper did not reach the rename in 20s")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	b, err := os.ReadFile(filepath.Join(f.Dir(), "pre_change_config.json"))
	if err != nil || string(b) != v1 {
		t.Fatalf("after the crash the final name holds %q (%v), want the old complete content", b, err)
	}
	res, err := Verify(f.Dir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(res, ProblemFileAdded, "left over from a write interrupted by a crash") {
		t.Fatalf("leftover temporary file not reported: %+v", res.Problems)
	}
	g, err := Resume(f.Dir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := g.Resumed(); r == nil || len(r.RemovedTemp) != 1 {
		t.Fatalf("resume did not record the removed temporary file: %+v", r)
	}
	assertNoTemp(t, f.Dir())
	if _, err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if res, err := Verify(f.Dir(), nil); err != nil || !res.OK {
		t.Fatalf("verify after resume: %v %+v", err, res.Problems)
	}
}

func hasProblem(r Result, kind, text string) bool {
	for _, p := range r.Problems {
		if p.Kind == kind && strings.Contains(p.Message, text) {
			return true
		}
	}
	return false
}
