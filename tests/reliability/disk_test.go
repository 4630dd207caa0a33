package reliability

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/runtest"
)

// smallTmpfs mounts a tmpfs of size at dir (root and mount rights needed:
// the test is skipped without them) and unmounts it at cleanup.
func smallTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s): the disk-full and read-only cases need mount rights", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

// TestEvidenceDirUnusable: the evidence folder is under a regular file
// (ENOTDIR) or on a read-only filesystem (EROFS; root cannot write there
// either): the run refuses to start, says why, and changes nothing.
func TestEvidenceDirUnusable(t *testing.T) {
	t.Run("under a file", func(t *testing.T) {
		f := newRunFixture(t, 3*time.Second, nil)
		// Move the plan's evidence dir under a regular file; approvals
		// and ticks are read from there, so record them again first.
		file := filepath.Join(f.Dir, "not-a-dir")
		writeFile(t, file, []byte("x"))
		f.P.Evidence.Dir = filepath.Join(file, "evidence")
		f.Write()
		out, stderr, code := f.cli(time.Minute, "run", f.PlanFile)
		t.Logf("exit %d: %s", code, firstLine(grepLine(stderr+out, "not a directory")))
		if code == 0 || !strings.Contains(stderr+out, "not a directory") {
			t.Errorf("run with evidence under a file: exit %d\n%s\n%s", code, out, stderr)
		}
		if !f.AllAt(f.P.Change.From) {
			t.Errorf("instances changed: %v", f.Sizes())
		}
	})
	t.Run("read-only", func(t *testing.T) {
		f := newRunFixtureOn(t, "", 3*time.Second, nil)
		smallTmpfs(t, filepath.Join(f.Dir, "evidence"), "4m")
		f.Approve()
		if out, err := exec.Command("mount", "-o", "remount,ro", filepath.Join(f.Dir, "evidence")).CombinedOutput(); err != nil {
			t.Skipf("remount ro: %v %s", err, out)
		}
		err := os.WriteFile(filepath.Join(f.Dir, "evidence", "probe"), []byte("x"), 0o644)
		if !errors.Is(err, syscall.EROFS) {
			t.Fatalf("write to the read-only mount: %v, want EROFS", err)
		}
		out, stderr, code := f.cli(time.Minute, "run", f.PlanFile)
		t.Logf("exit %d: %s", code, firstLine(grepLine(stderr+out, "read-only")))
		if code == 0 || !strings.Contains(stderr+out, "read-only file system") {
			t.Errorf("run with a read-only evidence dir: exit %d\n%s\n%s", code, out, stderr)
		}
		if !f.AllAt(f.P.Change.From) {
			t.Errorf("instances changed: %v", f.Sizes())
		}
	})
}

// TestEvidenceDiskFullDuringRun: the evidence folder is a 4 MiB tmpfs that
// the test fills up as soon as the run reaches baseline. Today the run
// goes on, prints a warning per evidence file it could not write ("no
// space left on device") and ends succeeded at change.to; this test holds
// that it ends within its bound and says why. The wanted behaviour — roll
// back to change.from and exit non-zero — is TestEvidenceDiskFullRollsBack
// (build tag pending; see docs/reliability.md).
func TestEvidenceDiskFullDuringRun(t *testing.T) {
	r := diskFullRun(t)
	if !strings.Contains(r.output, "no space left on device") {
		t.Errorf("the run does not say why:\n%s", r.output)
	}
}

type diskFullResult struct {
	f      *runFixture
	code   int
	output string
}

func diskFullRun(t *testing.T) diskFullResult {
	t.Helper()
	f := newRunFixtureOn(t, "", 3*time.Second, nil)
	evDir := filepath.Join(f.Dir, "evidence")
	smallTmpfs(t, evDir, "4m")
	f.Approve()
	cmd := f.start("run", f.PlanFile, "--json")
	f.WaitState(change.StateBaseline, time.Minute)
	fill := filepath.Join(evDir, "filler")
	out, _ := exec.Command("dd", "if=/dev/zero", "of="+fill, "bs=64k").CombinedOutput()
	if !strings.Contains(string(out), "No space left") {
		t.Fatalf("filling the tmpfs: %s", out)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not end within 2 minutes on a full disk")
	}
	output := cmd.Stdout.(interface{ String() string }).String() + cmd.Stderr.(interface{ String() string }).String()
	dir := f.RunDirs()[0]
	t.Logf("disk full at baseline: exit %d, journal %v, sizes %v; says: %s", cmd.ProcessState.ExitCode(), runtest.JournalStates(dir), f.Sizes(), firstLine(grepLine(output, "no space")))
	return diskFullResult{f: f, code: cmd.ProcessState.ExitCode(), output: output}
}
