package reliability

// `poolpilot run` with the restart driver on two node-ledger processes: each
// instance has an env file and a restart script that stops the old process
// (pid file, SIGTERM: node-ledger finishes what is in flight) and starts a new
// one with the file's DB_POOL_* on the same port.

import (
	"encoding/json"
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
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/plan"
)

const nodeRestartScript = `#!/bin/sh
d="$(dirname "$0")"
if [ -f "$d/pid" ]; then
  pid=$(cat "$d/pid")
  kill "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
fi
set -a
. "$d/node-ledger.env"
set +a
cd "$NODE_LEDGER_DIR" && node server/index.js >>"$d/node-ledger.log" 2>&1 &
echo $! >"$d/pid"
echo "started node-ledger pid $(cat "$d/pid") with DB_POOL_MAX=$DB_POOL_MAX DB_POOL_MIN=$DB_POOL_MIN"
`

// startNodeRestartFleet starts n node-ledger processes through their
// restart scripts and returns their folders and base URLs.
func startNodeRestartFleet(t *testing.T, db string, n int) (dirs, urls []string) {
	t.Helper()
	app := nodeLedgerDir(t)
	for i := range n {
		d := filepath.Join(t.TempDir(), fmt.Sprintf("instance-%d", i+1))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		env := fmt.Sprintf("DATABASE_URL=%s\nDB_POOL_MAX=10\nDB_POOL_MIN=2\nLEDGER_ADDR=127.0.0.1:%d\nPOOLPILOT_ADMIN_TOKEN=%s\nNODE_LEDGER_DIR=%s\n",
			db, port, fixtureToken, app)
		if err := os.WriteFile(filepath.Join(d, "node-ledger.env"), []byte(env), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "restart.sh"), []byte(nodeRestartScript), 0o755); err != nil {
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
		dirs = append(dirs, d)
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	for i, u := range urls {
		waitOK(t, u+"/healthz", filepath.Join(dirs[i], "node-ledger.log"))
	}
	return dirs, urls
}

// waitOK polls u until it answers 200 (a new process takes a moment to
// listen), or fails with the instance's log.
func waitOK(t *testing.T, u, logFile string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logFile)
	t.Fatalf("%s never answered 200; log:\n%s", u, b)
}

func TestNodeLedgerRestartDriverSucceeds(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dirs, urls := startNodeRestartFleet(t, db, 2)
	var health []string
	for _, u := range urls {
		health = append(health, u+"/healthz")
	}
	f, res, stderr, code := runNodeLedgerPlan(t, db, health, func(f *runtest.Fixture) {
		f.P.Driver = plan.DriverRestart
		for i := range f.P.Instances {
			f.P.Instances[i].EnvFile = filepath.Join(dirs[i], "node-ledger.env")
			f.P.Instances[i].RestartCommand = []string{filepath.Join(dirs[i], "restart.sh")}
		}
	})
	if code != 0 || res.State != change.StateSucceeded {
		t.Fatalf("exit %d, state %s (%s)\n%s", code, res.State, res.Reason, stderr)
	}
	f.ExpectAllAt(f.P.Change.To)
	for i, d := range dirs {
		b, _ := os.ReadFile(filepath.Join(d, "node-ledger.env"))
		if !strings.Contains(string(b), "DB_POOL_MAX=100\n") || !strings.Contains(string(b), "DB_POOL_MIN=10\n") {
			t.Errorf("%s/node-ledger.env after the run:\n%s", d, b)
		}
		if src := healthSource(t, urls[i]+"/healthz"); src != "env" {
			t.Errorf("after a restart the size comes from the env file, source %q", src)
		}
	}
	mustVerifyEvidence(t, res.Dir)
}

// healthSource returns where an instance's pool max came from (source.max).
func healthSource(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h poolpilot.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	return string(h.Pool.Source["max"])
}
