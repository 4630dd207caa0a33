package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/ledger"
)

// TestControllerKilledAtEveryState runs `poolpilot run` as a child process,
// SIGKILLs it as soon as its journal shows each state in turn, then resumes
// it with `poolpilot run PLAN --resume DIR` and checks: the run ends at a
// known configuration on every instance (to after success, from after a
// rollback), `poolpilot evidence verify` passes, and no temporary
// (half-written) file is left in the run folder. The rolling-back state is
// reached by making both instances fail during the load test.
func TestControllerKilledAtEveryState(t *testing.T) {
	states := []change.State{change.StatePreflight, change.StateBaseline, change.StateApplying,
		change.StateVerifying, change.StateLoadTest, change.StateSoak, change.StateRollingBack}
	if s := os.Getenv("POOLPILOT_KILL_STATES"); s != "" {
		states = nil
		for _, x := range strings.Split(s, ",") {
			states = append(states, change.State(x))
		}
	}
	for _, st := range states {
		t.Run(string(st), func(t *testing.T) {
			f := newRunFixture(t, 3*time.Second, nil)
			cmd := f.start("run", f.PlanFile)
			wait := st
			if st == change.StateRollingBack {
				f.WaitState(change.StateLoadTest, time.Minute)
				for _, ld := range f.Ledgerds {
					ld.SetFaults(t, ledger.FaultSettings{ErrorRate: 0.6})
				}
			}
			dir := f.WaitState(wait, time.Minute)
			runtest.Kill9(t, cmd)
			killedIn := runtest.JournalStates(dir)
			for _, ld := range f.Ledgerds {
				ld.SetFaults(t, ledger.FaultSettings{})
			}
			sizesAtKill := f.Sizes()
			out, stderr, code := f.cli(3*time.Minute, "run", f.PlanFile, "--resume", dir)
			last := runtest.JournalStates(dir)
			end := ""
			if len(last) > 0 {
				end = last[len(last)-1]
			}
			t.Logf("killed in %v (sizes %v); resume exit %d, end state %s, sizes %v", killedIn[len(killedIn)-1], sizesAtKill, code, end, f.Sizes())
			switch {
			case code == 0 && end == string(change.StateSucceeded):
				if !f.AllAt(f.P.Change.To) {
					t.Errorf("succeeded but instances at %v, want %v", f.Sizes(), f.P.Change.To)
				}
			case code == 3 && end == string(change.StateRolledBack):
				if !f.AllAt(f.P.Change.From) {
					t.Errorf("rolled back but instances at %v, want %v", f.Sizes(), f.P.Change.From)
				}
			default:
				t.Fatalf("resume: exit %d, end state %q (journal %v)\n%s\n%s", code, end, last, out, stderr)
			}
			if vout, verr, vcode := f.cli(time.Minute, "evidence", "verify", dir); vcode != 0 {
				t.Errorf("evidence verify after kill+resume: exit %d\n%s\n%s", vcode, vout, verr)
			}
			assertNoPartialFiles(t, dir)
		})
	}
}

// assertNoPartialFiles fails on a temporary file left by an interrupted
// atomic write, or an empty file, in the run folder.
func assertNoPartialFiles(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		name := d.Name()
		if strings.HasSuffix(name, ".tmp") || strings.HasPrefix(name, ".tmp") || strings.Contains(name, ".partial") {
			t.Errorf("half-written file left: %s", p)
		}
		if info, err := d.Info(); err == nil && info.Size() == 0 {
			t.Errorf("empty file left: %s", p)
		}
		return nil
	})
}
