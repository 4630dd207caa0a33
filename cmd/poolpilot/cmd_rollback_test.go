package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/runner"
)

// The live run that `poolpilot rollback` asks dies before it takes the
// request (frozen with SIGSTOP, then SIGKILL): rollback notices the lock
// released, says so, and rolls back itself.
func TestRollbackWaitFinishesWhenTheLiveRunDies(t *testing.T) {
	f := newAdminFixture(t, "", 60*time.Second, false)
	cmd, _ := f.startPoolpilot(t, "run", f.PlanFile)
	dir := f.WaitState(change.StateSoak, 40*time.Second)
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil { // holds the lock, takes no request
		t.Fatal(err)
	}
	done := f.runAsync("rollback", dir, "--reason", "p99 alarms", "--by", "Jane Doe", "--wait", "2m")
	request := filepath.Join(runner.ControlDir(dir), runner.RequestFile)
	deadline := time.Now().Add(30 * time.Second)
	for _, err := os.Stat(request); err != nil; _, err = os.Stat(request) {
		if time.Now().After(deadline) {
			t.Fatal("rollback wrote no request")
		}
		select {
		case r := <-done:
			t.Fatalf("rollback returned before the run died: exit %d\n%s\n%s", r.code, r.out, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	runtest.Kill9(t, cmd)
	var r cliResult
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("rollback did not return after the run died")
	}
	if r.code != poolpilot.ExitFailed || !strings.Contains(r.stderr, "the run holding "+dir+" died (lock released); finishing the rollback here") {
		t.Fatalf("rollback: exit %d (want %d: rolled back here)\n%s\n%s", r.code, poolpilot.ExitFailed, r.out, r.stderr)
	}
	f.ExpectAllAt(f.P.Change.From)
	mustVerify(t, dir)
	if _, err := os.Stat(request); !os.IsNotExist(err) {
		t.Errorf("the request to the dead run is left: %v", err)
	}
}
