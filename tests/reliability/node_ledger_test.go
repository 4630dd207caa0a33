package reliability

// `poolpilot run` with the admin driver on two instances of the Node
// example (examples/node-ledger: Express + node-postgres + @poolpilot/pg),
// started with `node`: one plan succeeds and leaves both pools at the
// plan's size; one where the bigger pool "breaks" the service
// (LEDGER_FAULT_WHEN_MAX_ABOVE) rolls back to the old size.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/runner"
)

// nodeLedgerDir is examples/node-ledger, with its dependencies installed
// (npm ci, once per test binary, when node_modules is missing or holds an
// older copy of adapters/node).
func nodeLedgerDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: apt-get install nodejs npm (adapters/node/test.sh does it)")
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "examples", "node-ledger")
	npmOnce.Do(func() {
		// npm copies the adapter (install-links): install again when the copy is stale.
		if sameFiles(filepath.Join(dir, "..", "..", "adapters", "node", "src"), filepath.Join(dir, "node_modules", "@poolpilot", "pg", "src")) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			npmErr = err.Error() + ": " + string(out)
		}
	})
	if npmErr != "" {
		t.Fatalf("npm ci in %s: %s", dir, npmErr)
	}
	return dir
}

// sameFiles reports whether every file of dir a is in dir b with the same content.
func sameFiles(a, b string) bool {
	entries, err := os.ReadDir(a)
	if err != nil || len(entries) == 0 {
		return false
	}
	for _, e := range entries {
		x, err1 := os.ReadFile(filepath.Join(a, e.Name()))
		y, err2 := os.ReadFile(filepath.Join(b, e.Name()))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			return false
		}
	}
	return true
}

var (
	npmOnce sync.Once
	npmErr  string
)

// startNodeLedger starts one instance on db and returns its base URL; it
// is stopped with SIGTERM at cleanup.
func startNodeLedger(t *testing.T, db string, env map[string]string) string {
	t.Helper()
	dir := nodeLedgerDir(t)
	all := map[string]string{"DATABASE_URL": db, "DB_POOL_MAX": "10", "DB_POOL_MIN": "2",
		"POOLPILOT_ADMIN_TOKEN": fixtureToken, "LEDGER_ADDR": "127.0.0.1:0"}
	for k, v := range env {
		all[k] = v
	}
	cmd := runtest.Command(context.Background(), "node", all, "server/index.js")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening addr="); ok {
				addr <- a
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("node-ledger did not print its address in 60 s; stderr:\n%s", stderr.String())
	}
	return ""
}

// nodeLedgerRun starts two instances and runs the approved fixture plan.
func nodeLedgerRun(t *testing.T, env map[string]string) (*runtest.Fixture, runner.Result, string, int) {
	t.Helper()
	db := pgtest.NewDatabase(t)
	var health []string
	for range 2 {
		health = append(health, startNodeLedger(t, db, env)+"/healthz")
	}
	return runNodeLedgerPlan(t, db, health, nil)
}

// runNodeLedgerPlan writes the fixture plan for the instances at health,
// lets edit change it, approves it and runs it.
func runNodeLedgerPlan(t *testing.T, db string, health []string, edit func(*runtest.Fixture)) (*runtest.Fixture, runner.Result, string, int) {
	t.Helper()
	cli := func(env map[string]string, args ...string) (string, string, int) {
		return runBinary(t, env, 2*time.Minute, args...)
	}
	f := runtest.New(t, runtest.Options{DatabaseURL: db, Name: "node_ledger", Token: fixtureToken,
		Soak: 4 * time.Second, Health: health, CLI: cli})
	if edit != nil {
		edit(f)
		f.Write()
	}
	f.Approve()
	out, stderr, code := f.CLI(f.Env, "run", f.PlanFile, "--json")
	var res runner.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("run --json (exit %d): %v\n%s\n%s", code, err, out, stderr)
	}
	return f, res, stderr, code
}

func TestNodeLedgerRunSucceeds(t *testing.T) {
	f, res, stderr, code := nodeLedgerRun(t, nil)
	if code != 0 || res.State != change.StateSucceeded {
		t.Fatalf("exit %d, state %s (%s)\n%s", code, res.State, res.Reason, stderr)
	}
	f.ExpectAllAt(f.P.Change.To)
	mustVerifyEvidence(t, res.Dir)
}

func TestNodeLedgerRunRollsBackOnInjectedErrors(t *testing.T) {
	f, res, stderr, code := nodeLedgerRun(t, map[string]string{
		"LEDGER_FAULT_ERROR_RATE": "0.5", "LEDGER_FAULT_WHEN_MAX_ABOVE": "10"})
	if code != poolpilot.ExitFailed || res.State != change.StateRolledBack {
		t.Fatalf("exit %d, state %s (%s), want rolled back\n%s", code, res.State, res.Reason, stderr)
	}
	if !strings.Contains(res.Reason, "error_rate") {
		t.Errorf("rolled back for %q, want the error rate", res.Reason)
	}
	f.ExpectAllAt(f.P.Change.From)
	mustVerifyEvidence(t, res.Dir)
}

// mustVerifyEvidence checks a run folder with `poolpilot evidence verify`.
func mustVerifyEvidence(t *testing.T, dir string) {
	t.Helper()
	if out, stderr, code := runBinary(t, nil, time.Minute, "evidence", "verify", dir); code != 0 {
		t.Errorf("verify %s: exit %d\n%s\n%s", dir, code, out, stderr)
	}
}

// TestNodeLedgerHealthMatchesGoReference decodes node-ledger's /healthz
// strictly into the Go reference's poolpilot.Health (a misnamed or extra
// field fails) and requires every field the Go reference always writes.
func TestNodeLedgerHealthMatchesGoReference(t *testing.T) {
	base := startNodeLedger(t, pgtest.NewDatabase(t), nil)
	resp, err := http.Post(base+"/v1/tenants/t1/entries", "application/json",
		strings.NewReader(`{"description":"sale","lines":[{"account":"cash","amount":1000},{"account":"revenue","amount":-1000}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post entry: %s", resp.Status)
	}
	var raw map[string]any
	var h poolpilot.Health
	deadline := time.Now().Add(10 * time.Second)
	for {
		b := getBody(t, base+"/healthz")
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&h); err != nil {
			t.Fatalf("/healthz does not decode strictly into poolpilot.Health: %v\n%s", err, b)
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		if h.Budget != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // the budget is read in the background after start
	}
	if h.Schema != poolpilot.HealthSchema || h.Status != "ok" || h.Service != "node-ledger" || h.Time.IsZero() {
		t.Errorf("schema %q status %q service %q time %v", h.Schema, h.Status, h.Service, h.Time)
	}
	if h.Pool.Max != 10 || h.Pool.Min != 2 || h.Pool.IdleTimeoutMS != 30000 || h.Pool.WindowSeconds != 60 || h.Pool.Source["max"] != poolpilot.FromEnv {
		t.Errorf("pool %+v", h.Pool)
	}
	if h.Requests == nil || h.Requests.Total < 1 || h.Requests.WindowSeconds != 60 || h.Budget == nil || h.Budget.PoolMax != 10 {
		t.Errorf("requests %+v budget %+v", h.Requests, h.Budget)
	}
	// Every field the Go reference always writes (not omitempty) is there.
	want, _ := json.Marshal(poolpilot.Health{Requests: &poolpilot.RequestStats{}, Budget: &poolpilot.Budget{}})
	var ref map[string]any
	_ = json.Unmarshal(want, &ref)
	missing := missingKeys("", ref, raw)
	if len(missing) > 0 {
		t.Errorf("node-ledger's /healthz lacks %v", missing)
	}
}

func getBody(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// missingKeys lists the keys of ref (recursively through objects) absent from got.
func missingKeys(prefix string, ref, got map[string]any) []string {
	var out []string
	for k, v := range ref {
		g, ok := got[k]
		if !ok {
			out = append(out, prefix+k)
			continue
		}
		rm, rok := v.(map[string]any)
		gm, gok := g.(map[string]any)
		if rok && gok {
			out = append(out, missingKeys(prefix+k+".", rm, gm)...)
		}
	}
	return out
}
