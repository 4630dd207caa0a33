package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/internal/testutil"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/runner"
)

// buildBinaries builds poolpilot and ledgerd once per test binary.
func buildBinaries(t *testing.T) (poolpilotBin, ledgerdBin string) {
	t.Helper()
	return runtest.Binary(t, "github.com/poolpilot/poolpilot/cmd/poolpilot"), runtest.Binary(t, "github.com/poolpilot/poolpilot/cmd/ledgerd")
}

// startPoolpilot runs the poolpilot binary with the fixture's environment.
func (f *runFixture) startPoolpilot(t *testing.T, args ...string) (*exec.Cmd, *testutil.Buffer) {
	t.Helper()
	bin, _ := buildBinaries(t)
	cmd := runtest.Command(context.Background(), bin, f.Env, args...)
	var out testutil.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, &out
}

func TestRunResumeAfterKill9DuringTheSoak(t *testing.T) {
	f := newAdminFixture(t, "", 6*time.Second, true)
	cmd, out := f.startPoolpilot(t, "run", f.PlanFile)
	dir := f.WaitState(change.StateSoak, 40*time.Second)
	runtest.Kill9(t, cmd)
	f.ExpectAllAt(f.P.Change.To) // left changed by the dead run
	other := *f.P
	other.Soak.Duration = poolpilot.Duration(time.Hour)
	otherFile := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(otherFile, other.YAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, f.Getenv, "run", otherFile, "--resume", dir); code != poolpilot.ExitBadInput || !strings.Contains(stderr, "resume with the plan it ran") {
		t.Errorf("resume with another plan: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := runCLI(t, f.Getenv, "run", f.PlanFile, "--resume", dir)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s\nfirst run:\n%s", code, stdout, stderr, out.String())
	}
	if !strings.Contains(stderr, "resuming run from soak") || !strings.Contains(stderr, "monitoring samples from before the crash kept") {
		t.Errorf("resume does not say where it resumed and what it kept:\n%s", stderr)
	}
	f.ExpectAllAt(f.P.Change.To)
	mustVerify(t, dir)
	if !auditHas(t, dir, "run_resumed") {
		t.Error("no run_resumed in the audit log")
	}
}

// restartFleet is ledgerd processes managed by a restart script, the
// restart driver's way: an env file per instance and a command that stops
// the old process (pid file) and starts a new one on the same port.
type restartFleet struct {
	dirs []string
	urls []string
}

const restartScript = `#!/bin/sh
d="$(dirname "$0")"
if [ -f "$d/pid" ]; then
  pid=$(cat "$d/pid")
  kill "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
fi
set -a
. "$d/ledgerd.env"
set +a
"$LEDGERD_BIN" >>"$d/ledgerd.log" 2>&1 &
echo $! >"$d/pid"
echo "started ledgerd pid $(cat "$d/pid") with DB_POOL_MAX=$DB_POOL_MAX DB_POOL_MIN=$DB_POOL_MIN"
`

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startRestartFleet(t *testing.T, db, token string, n int) *restartFleet {
	t.Helper()
	_, ledgerd := buildBinaries(t)
	rf := &restartFleet{}
	for i := range n {
		d := filepath.Join(t.TempDir(), fmt.Sprintf("instance-%d", i+1))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		port := freePort(t)
		env := fmt.Sprintf("DATABASE_URL=%s\nDB_POOL_MAX=10\nDB_POOL_MIN=2\nLEDGERD_ADDR=127.0.0.1:%d\nPOOLPILOT_ADMIN_TOKEN=%s\nLEDGERD_SHUTDOWN_TIMEOUT=2s\nLEDGERD_BIN=%s\n", db, port, token, ledgerd)
		if err := os.WriteFile(filepath.Join(d, "ledgerd.env"), []byte(env), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "restart.sh"), []byte(restartScript), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(filepath.Join(d, "restart.sh")).CombinedOutput(); err != nil {
			t.Fatalf("start: %v\n%s", err, out)
		}
		t.Cleanup(func() {
			if b, err := os.ReadFile(filepath.Join(d, "pid")); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
		rf.dirs = append(rf.dirs, d)
		rf.urls = append(rf.urls, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	for _, u := range rf.urls {
		waitHealthy(t, u+"/healthz")
	}
	return rf
}

func waitHealthy(t *testing.T, u string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", u)
}

// newRestartFixture is a plan for the restart driver over a restartFleet.
func newRestartFixture(t *testing.T, soak time.Duration) (*runFixture, *restartFleet) {
	t.Helper()
	db := pgtest.NewDatabase(t)
	rf := startRestartFleet(t, db, "test-admin-token", 2)
	var health []string
	for _, u := range rf.urls {
		health = append(health, u+"/healthz")
	}
	f := &runFixture{runtest.New(t, runtest.Options{DatabaseURL: db, Name: "restart_test", Soak: soak, Health: health, CLI: inProcessCLI(t)})}
	f.P.Driver = plan.DriverRestart
	for i := range f.P.Instances {
		f.P.Instances[i].EnvFile = filepath.Join(rf.dirs[i], "ledgerd.env")
		f.P.Instances[i].RestartCommand = []string{filepath.Join(rf.dirs[i], "restart.sh")}
	}
	f.Write()
	f.Approve()
	return f, rf
}

func (rf *restartFleet) setFaults(t *testing.T, s ledger.FaultSettings) {
	t.Helper()
	for _, u := range rf.urls {
		body := fmt.Sprintf(`{"error_rate":%g,"extra_latency_ms":%d}`, s.ErrorRate, s.ExtraLatencyMS)
		req, _ := http.NewRequest(http.MethodPut, u+"/admin/faults", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer test-admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s/admin/faults: %s", u, resp.Status)
		}
	}
}

func envFileHas(t *testing.T, path, want string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), want+"\n")
}

func TestRunRestartDriverSucceeds(t *testing.T) {
	f, _ := newRestartFixture(t, 3*time.Second)
	dry, _, code := runCLI(t, f.Getenv, "run", f.PlanFile, "--dry-run")
	if code != 0 || !strings.Contains(dry, "DB_POOL_MAX=100 DB_POOL_MIN=10") || !strings.Contains(dry, "restart.sh") {
		t.Errorf("dry run (exit %d):\n%s", code, dry)
	}
	out, stderr, code := runCLI(t, f.Getenv, "run", f.PlanFile)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	f.ExpectAllAt(f.P.Change.To)
	for _, in := range f.P.Instances {
		if !envFileHas(t, in.EnvFile, "DB_POOL_MAX=100") || !envFileHas(t, in.EnvFile, "DB_POOL_MIN=10") {
			t.Errorf("%s does not hold the new size", in.EnvFile)
		}
	}
	dir := runDirOf(t, out)
	mustVerify(t, dir)
	allSeedFiles(t, dir)
	b, _ := os.ReadFile(filepath.Join(dir, "restart_log.txt"))
	if !strings.Contains(string(b), "started ledgerd pid") {
		t.Errorf("restart_log.txt:\n%s", b)
	}
}

func TestRunRestartDriverRollsBackOnFault(t *testing.T) {
	f, rf := newRestartFixture(t, 20*time.Second)
	done := f.runAsync("run", f.PlanFile)
	f.WaitState(change.StateSoak, 40*time.Second)
	rf.setFaults(t, ledger.FaultSettings{ErrorRate: 0.5}) // the restarted processes
	r := <-done
	if r.code != poolpilot.ExitFailed || !strings.Contains(r.out, "error_rate") {
		t.Fatalf("exit %d, want 3\n%s\n%s", r.code, r.out, r.stderr)
	}
	f.ExpectAllAt(f.P.Change.From)
	for _, in := range f.P.Instances {
		if !envFileHas(t, in.EnvFile, "DB_POOL_MAX=10") {
			t.Errorf("%s was not restored", in.EnvFile)
		}
	}
	mustVerify(t, runDirOf(t, r.out))
}

// A run killed during the soak, then rolled back by hand: no live run
// holds it, so poolpilot rollback restores change.from itself.
func TestRollbackWithoutALiveRunAfterKill9(t *testing.T) {
	f, _ := newRestartFixture(t, 60*time.Second)
	cmd, _ := f.startPoolpilot(t, "run", f.PlanFile)
	dir := f.WaitState(change.StateSoak, 40*time.Second)
	runtest.Kill9(t, cmd)
	out, stderr, code := runCLI(t, f.Getenv, "rollback", dir, "--reason", "the run died; back to 10:2", "--by", "Jane Doe")
	if code != poolpilot.ExitFailed || !strings.Contains(out, "rolled-back") {
		t.Fatalf("rollback: exit %d (want 3: rolled back)\n%s\n%s", code, out, stderr)
	}
	f.ExpectAllAt(f.P.Change.From)
	mustVerify(t, dir)
	if !auditHas(t, dir, "rollback_requested") {
		t.Error("no rollback_requested")
	}
}

// Without a terminal, Ctrl-C rolls back.
func TestRunInterruptedWithoutATerminalRollsBack(t *testing.T) {
	f := newAdminFixture(t, "", 60*time.Second, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan cliResult, 1)
	go func() {
		var out, errb testutil.Buffer
		err := run(ctx, []string{"run", f.PlanFile}, f.Getenv, strings.NewReader(""), &out, &errb)
		ch <- cliResult{out.String(), errb.String(), poolpilot.ExitCode(err)}
	}()
	dir := f.WaitState(change.StateSoak, 30*time.Second)
	cancel()
	r := <-ch
	if r.code != poolpilot.ExitFailed || !strings.Contains(r.stderr, "interrupted") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.stderr)
	}
	f.ExpectAllAt(f.P.Change.From)
	mustVerify(t, dir)
	if !auditHas(t, dir, "interrupted") {
		t.Error("the operator's choice is not recorded")
	}
}

// Ctrl-C answered "leave as is" stops the run where it is; poolpilot
// rollback, with no live run, then restores change.from from the journal.
func TestLeaveAsIsThenRollbackWithoutALiveRun(t *testing.T) {
	f := newAdminFixture(t, "", 60*time.Second, false)
	raw, err := os.ReadFile(f.PlanFile)
	if err != nil {
		t.Fatal(err)
	}
	intr := make(chan struct{}, 1)
	var errb testutil.Buffer
	run := &assemble.Run{Plan: f.P, PlanYAML: raw, PlanDir: f.PlanDir(), EvidenceDir: filepath.Dir(f.PlanDir()), Getenv: f.Getenv}
	o := runner.Options{Run: run, Log: &errb, Operator: runner.Operator{Name: "tester"},
		Interactive: runner.Interactive{Interrupts: intr, Ask: func() string { return "leave" }}}
	done := make(chan runner.Result, 1)
	go func() {
		res, err := runner.Run(context.Background(), o)
		if !errors.Is(err, change.ErrLeaveAsIs) {
			t.Errorf("run: %v, want ErrLeaveAsIs", err)
		}
		done <- res
	}()
	dir := f.WaitState(change.StateSoak, 30*time.Second)
	intr <- struct{}{}
	res := <-done
	if res.State != change.StateSoak || res.ExitCode != poolpilot.ExitInternal {
		t.Fatalf("left as is: %+v\n%s", res, errb.String())
	}
	f.ExpectAllAt(f.P.Change.To)
	if _, err := os.Stat(filepath.Join(dir, "audit.head")); err == nil {
		t.Fatal("a run left as is must stay open")
	}
	out, stderr, code := runCLI(t, f.Getenv, "rollback", dir, "--reason", "left overnight; back to 10:2")
	if code != poolpilot.ExitFailed || !strings.Contains(out, "rolled-back") {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, stderr)
	}
	f.ExpectAllAt(f.P.Change.From)
	mustVerify(t, dir)
	if !auditHas(t, dir, "interrupted") {
		t.Error("the choice is not audited")
	}
}
