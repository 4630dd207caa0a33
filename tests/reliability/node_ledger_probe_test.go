package reliability

// poolpilot probe and poolpilot size --http on the Node example: the
// language-neutral contract is enough for both.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/advisor"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

func TestNodeLedgerProbeAndSize(t *testing.T) {
	base := startNodeLedger(t, pgtest.NewDatabase(t), nil)
	env := map[string]string{"POOLPILOT_ADMIN_TOKEN": fixtureToken}
	out, stderr, code := runBinary(t, env, 2*time.Minute, "probe", base+"/healthz", "--admin-url", base,
		"--token-env", "POOLPILOT_ADMIN_TOKEN", "--load-url", base+"/v1/tenants/probe/trial-balance", "--json")
	if code != 0 {
		t.Fatalf("probe on node-ledger: exit %d, want 0 (conformant)\n%s\n%s", code, out, stderr)
	}
	if strings.Contains(out+stderr, fixtureToken) {
		t.Error("probe printed the admin token")
	}

	dir := t.TempDir()
	chart := filepath.Join(dir, "size.svg")
	out, stderr, code = runBinary(t, env, 3*time.Minute, "size", "--http", base+"/v1/tenants/t1/trial-balance",
		"--admin-url", base, "--max", "8", "--duration-per-step", "400ms", "--warmup", "100ms", "--json", "--chart", chart)
	// A burst of other work on a shared 2-core machine can make two rounds
	// of a step disagree: then size must say it was too noisy, naming the step.
	noisy := code == poolpilot.ExitFailed && strings.Contains(stderr, "too noisy") && strings.Contains(stderr, "rounds of the step at concurrency")
	if code != 0 && !noisy {
		t.Fatalf("size --http on node-ledger: exit %d\n%s\n%s", code, out, stderr)
	}
	var rep advisor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("size --json: %v\n%s", err, out)
	}
	for _, s := range rep.Steps {
		if s.PoolMax != s.Concurrency || s.Requests == 0 {
			t.Errorf("step %+v: not measured at its pool size", s)
		}
	}
	if !noisy && rep.Recommended.Max < 1 {
		t.Errorf("no recommendation: %+v", rep.Recommended)
	}
	if b, err := os.ReadFile(chart); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("chart: %v", err)
	}
	// The pool is back at its size from the environment.
	if got := healthSize(t, base+"/healthz"); got.Max != 10 || got.Min != 2 {
		t.Errorf("after size --http node-ledger is at %d:%d, want 10:2", got.Max, got.Min)
	}
}
