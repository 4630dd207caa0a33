package reliability

import (
	"bytes"
	"encoding/json"
	"github.com/poolpilot/poolpilot/evidence"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/runtest"
)

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

type unreachableResult struct {
	code               int
	State, Reason, Dir string
}

// TestInstanceUnreachableDuringApply: the second instance's admin endpoint
// refuses connections (its /healthz still answers, so preflight passes);
// the first instance is changed, the second cannot be, and the run rolls
// the first back: both end at change.from and the evidence verifies.
// TestInstanceUnreachableEndsRolledBack checks the end state and exit code.
func TestInstanceUnreachableDuringApply(t *testing.T) {
	res := runUnreachable(t)
	if res.State != string(change.StateRolledBack) {
		t.Fatalf("state %s, want rolled-back", res.State)
	}
}

func runUnreachable(t *testing.T) unreachableResult {
	t.Helper()
	f := newRunFixture(t, 3*time.Second, nil)
	f.P.Instances[1].AdminURL = "http://" + closedPort(t)
	f.Write()
	f.Approve()
	out, stderr, code := f.cli(3*time.Minute, "run", f.PlanFile, "--json")
	var res unreachableResult
	res.code = code
	if err := json.Unmarshal(bytes.TrimSpace([]byte(out)), &res); err != nil {
		t.Fatalf("--json: %v\n%s\n%s", err, out, stderr)
	}
	dir := f.RunDirs()[0]
	dl, _ := os.ReadFile(filepath.Join(dir, evidence.FileDeploymentLog))
	t.Logf("exit %d, state %s, reason %s; journal %v; sizes %v\ndeployment log:\n%s", code, res.State, res.Reason, runtest.JournalStates(dir), f.Sizes(), dl)
	first := f.Ledgerds[0].URL + "/admin/pool"
	if !strings.Contains(string(dl), first+` {"max":100,"min":10}`) || !strings.Contains(string(dl), first+` {"max":10,"min":2}`) {
		t.Errorf("instance-1 was not changed and then rolled back:\n%s", dl)
	}
	if !f.AllAt(f.P.Change.From) {
		t.Errorf("instances at %v, want every one at %v", f.Sizes(), f.P.Change.From)
	}
	if !strings.Contains(res.Reason, "instance-2") {
		t.Errorf("reason %q does not name the unreachable instance", res.Reason)
	}
	if _, e, c := f.cli(time.Minute, "evidence", "verify", dir); c != 0 {
		t.Errorf("evidence verify: %s", e)
	}
	return res
}
