package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/internal/testutil"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/runner"
)

// runFixture is the run fixture of internal/runtest with the CLI run
// in-process.
type runFixture struct{ *runtest.Fixture }

// newAdminFixture starts two ledgerd instances at 10:2 on db and writes,
// approves and ticks a test plan for the admin driver.
func newAdminFixture(t *testing.T, db string, soak time.Duration, process bool) *runFixture {
	return newAdminFixtureTo(t, db, soak, process, plan.PoolSize{Max: 100, Min: 10})
}

func newAdminFixtureTo(t *testing.T, db string, soak time.Duration, process bool, to plan.PoolSize) *runFixture {
	t.Helper()
	f := &runFixture{runtest.New(t, runtest.Options{DatabaseURL: db, Soak: soak, To: to, Process: process, CLI: inProcessCLI(t)})}
	f.Approve()
	return f
}

// inProcessCLI is runCLI as the fixture's way of running poolpilot.
func inProcessCLI(t *testing.T) runtest.CLI {
	return func(env map[string]string, args ...string) (string, string, int) {
		t.Helper()
		return runCLI(t, func(k string) string { return env[k] }, args...)
	}
}

type cliResult struct {
	out, stderr string
	code        int
}

// runAsync runs the CLI in a goroutine.
func (f *runFixture) runAsync(args ...string) <-chan cliResult {
	ch := make(chan cliResult, 1)
	go func() {
		var out, errb testutil.Buffer
		err := run(context.Background(), args, f.Getenv, strings.NewReader(""), &out, &errb)
		ch <- cliResult{out.String(), errb.String(), poolpilot.ExitCode(err)}
	}()
	return ch
}

// mustVerify checks the run folder with evidence.Verify and the CLI.
func mustVerify(t *testing.T, dir string) {
	t.Helper()
	res, err := evidence.Verify(dir, nil)
	if err != nil || !res.OK {
		t.Fatalf("evidence verify %s: %v %+v", dir, err, res.First())
	}
	if out, stderr, code := runCLI(t, nil, "evidence", "verify", dir); code != 0 {
		t.Fatalf("poolpilot evidence verify: exit %d\n%s\n%s", code, out, stderr)
	}
}

func runDirOf(t *testing.T, out string) string {
	t.Helper()
	i := strings.Index(out, "evidence: ")
	if i < 0 {
		t.Fatalf("no evidence line in:\n%s", out)
	}
	return strings.TrimSpace(strings.SplitN(out[i+len("evidence: "):], "\n", 2)[0])
}

func auditHas(t *testing.T, dir, event string) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, evidence.FileAudit))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, []byte(`"event":"`+event+`"`))
}

func auditContains(t *testing.T, dir, s string) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, evidence.FileAudit))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, []byte(s))
}

// hook is a webhook receiver that keeps the texts it got.
type hook struct {
	mu    sync.Mutex
	texts []string
	url   string
}

func newHook(t *testing.T, status int) *hook {
	h := &hook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Text string }
		_ = json.NewDecoder(r.Body).Decode(&m)
		h.mu.Lock()
		h.texts = append(h.texts, m.Text)
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/services/T0/B0/webhook-secret-part"
	return h
}

func (h *hook) all() string { h.mu.Lock(); defer h.mu.Unlock(); return strings.Join(h.texts, "\n") }

func TestRunAdminDriverSucceeds(t *testing.T) {
	f := newAdminFixture(t, "", 3*time.Second, true)
	hk := newHook(t, http.StatusOK)
	f.Env["POOLPILOT_WEBHOOK_URL"] = hk.url
	out, stderr, code := runCLI(t, f.Getenv, "run", f.PlanFile, "--progress")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"starting", "approved by", "succeeded"} {
		if !strings.Contains(hk.all(), want) {
			t.Errorf("no %q notification in:\n%s", want, hk.all())
		}
	}
	if !strings.Contains(stderr, "[soak ") || !strings.Contains(stderr, "left] ok ") {
		t.Errorf("--progress printed no evaluation lines:\n%s", stderr)
	}
	f.ExpectAllAt(f.P.Change.To)
	dir := runDirOf(t, out)
	mustVerify(t, dir)
	allSeedFiles(t, dir)
	if b, _ := os.ReadFile(filepath.Join(dir, evidence.FileRestartLog)); !bytes.Contains(b, []byte("No restart was needed")) || !bytes.Contains(b, []byte("HTTP 200")) {
		t.Errorf("restart_log.txt of the admin driver:\n%s", b)
	}
	for _, want := range []string{"succeeded", "audit head: ", "report.html"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, name := range []string{"pre_change_metrics.json", "pre_change_latency.json", "synthetic_load_test_results.json", "sustained_monitoring.json", "latency_comparison.json", "report.md"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var sm evidence.SustainedMonitoring
	b, _ := os.ReadFile(filepath.Join(dir, evidence.FileSustainedMonitoring))
	if err := json.Unmarshal(b, &sm); err != nil || sm.Verdict != "pass" || len(sm.Samples) < 5 {
		t.Errorf("sustained_monitoring: verdict %q, %d samples, %v", sm.Verdict, len(sm.Samples), err)
	}
	if strings.Contains(string(b)+out+stderr, "test-admin-token") {
		t.Error("the admin token leaked")
	}
	runtest.NoSecretIn(t, dir, "test-admin-token", "webhook-secret-part")
}

func TestRunAdminDriverRollsBackOnFault(t *testing.T) {
	f := newAdminFixture(t, "", 20*time.Second, true)
	f.P.LoadTest.Duration = poolpilot.Duration(20 * time.Second)
	f.Write()
	f.Approve()
	hk := newHook(t, http.StatusInternalServerError) // failures are recorded, never fatal
	f.Env["POOLPILOT_WEBHOOK_URL"] = hk.url
	done := f.runAsync("run", f.PlanFile, "--json")
	f.WaitState(change.StateLoadTest, 30*time.Second) // the engine watches the load test too
	for _, ld := range f.Ledgerds {
		ld.SetFaults(t, ledger.FaultSettings{ErrorRate: 0.5})
	}
	r := <-done
	if r.code != poolpilot.ExitFailed {
		t.Fatalf("exit %d, want 3\n%s\n%s", r.code, r.out, r.stderr)
	}
	var res runner.Result
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.out)
	}
	if res.State != change.StateRolledBack || !strings.Contains(res.Reason, "error_rate") {
		t.Errorf("outcome %s: %s", res.State, res.Reason)
	}
	f.ExpectAllAt(f.P.Change.From)
	mustVerify(t, res.Dir)
	for _, ev := range []string{"criterion_fired", "incident", "rollback", "notify_failed"} {
		if !auditHas(t, res.Dir, ev) {
			t.Errorf("the audit log lacks %s", ev)
		}
	}
	if !strings.Contains(hk.all(), "rolling back") || !strings.Contains(hk.all(), "P0 incident") {
		t.Errorf("notifications:\n%s", hk.all())
	}
	runtest.NoSecretIn(t, res.Dir, "test-admin-token", "webhook-secret-part")
	b, _ := os.ReadFile(filepath.Join(res.Dir, evidence.FileAudit))
	if !bytes.Contains(b, []byte(`"phase":"load test"`)) {
		t.Error("the trigger did not fire during the load test")
	}
	var lt evidence.LoadTestResults
	b, _ = os.ReadFile(filepath.Join(res.Dir, evidence.FileSyntheticLoadTest))
	if err := json.Unmarshal(b, &lt); err != nil || lt.Passed || len(lt.Failures) == 0 {
		t.Errorf("synthetic_load_test_results.json: passed %v, failures %v, %v", lt.Passed, lt.Failures, err)
	}
	// The faults are still on after the rollback: the post-rollback
	// monitoring says the service did not return to its baseline.
	var pm evidence.PostRollbackMonitoring
	b, err := os.ReadFile(filepath.Join(res.Dir, evidence.FilePostRollbackMonitoring))
	if err != nil || json.Unmarshal(b, &pm) != nil {
		t.Fatalf("post_rollback_monitoring.json: %v", err)
	}
	if pm.ReturnedToBaseline || len(pm.Samples) == 0 || pm.WatchedSeconds <= 0 || !strings.Contains(fmt.Sprint(pm.Problems), "error") {
		t.Errorf("post_rollback_monitoring.json: returned %v, %d samples, watched %.1fs, problems %v", pm.ReturnedToBaseline, len(pm.Samples), pm.WatchedSeconds, pm.Problems)
	}
}

func TestRunManualRollbackOfALiveRun(t *testing.T) {
	f := newAdminFixture(t, "", 60*time.Second, false)
	done := f.runAsync("run", f.PlanFile)
	dir := f.WaitState(change.StateSoak, 30*time.Second)
	out, stderr, code := runCLI(t, f.Getenv, "rollback", dir, "--reason", "p99 alarms from payments", "--by", "Jane Doe")
	if code != 0 || !strings.Contains(out, "rolled back") {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, stderr)
	}
	r := <-done
	if r.code != poolpilot.ExitFailed || !strings.Contains(r.stderr, "manual rollback by Jane Doe: p99 alarms from payments") {
		t.Fatalf("run: exit %d\n%s\n%s", r.code, r.out, r.stderr)
	}
	f.ExpectAllAt(f.P.Change.From)
	mustVerify(t, dir)
	if !auditHas(t, dir, "rollback_requested") {
		t.Error("no rollback_requested in the audit log")
	}
	// A finished run cannot be rolled back again.
	if _, stderr, code := runCLI(t, f.Getenv, "rollback", dir, "--reason", "again"); code != poolpilot.ExitBadInput {
		t.Errorf("rollback of a closed run: exit %d: %s", code, stderr)
	}
}

func TestRunRefusedByTheConnectionBudget(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{Settings: map[string]string{"max_connections": "100"}})
	f := newAdminFixtureTo(t, srv.URL("postgres"), 3*time.Second, false, plan.PoolSize{Max: 200, Min: 20})
	prefix := filepath.Join(t.TempDir(), "ops")
	if _, stderr, code := runCLI(t, nil, "evidence", "keygen", "--out", prefix); code != 0 {
		t.Fatal(stderr)
	}
	out, stderr, code := runCLI(t, f.Getenv, "run", f.PlanFile, "--signing-key", prefix+".key")
	if code != poolpilot.ExitRefused {
		t.Fatalf("exit %d, want 4\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "refused") || !strings.Contains(out, "connection_budget") || !strings.Contains(out, "max_connections 100") {
		t.Errorf("the refusal does not name the budget:\n%s", out)
	}
	f.ExpectAllAt(f.P.Change.From)
	dir := runDirOf(t, out)
	mustVerify(t, dir)
	if want := `"poolpilot_version":"` + buildVersion().Version + `"`; !auditHas(t, dir, evidence.EventRunOpened) || !auditContains(t, dir, want) {
		t.Errorf("run_opened does not record %s", want)
	}
	head := strings.TrimSpace(strings.SplitN(out[strings.Index(out, "audit head: ")+len("audit head: "):], "\n", 2)[0])
	vout, _, code := runCLI(t, nil, "evidence", "verify", "--pubkey", prefix+".pub", "--head", head, dir)
	if code != 0 || !strings.Contains(vout, "signature verified") {
		t.Fatalf("signed run: exit %d\n%s", code, vout)
	}
}

func TestRunRefusedWhenThePlanChangedAfterApproval(t *testing.T) {
	f := newAdminFixture(t, "", 3*time.Second, false)
	f.P.Soak.Duration = poolpilot.Duration(4 * time.Second)
	f.Write()
	f.Tick(f.PlanFile) // the checklist is ticked again, the approval is not
	out, stderr, code := runCLI(t, f.Getenv, "run", f.PlanFile)
	if code != poolpilot.ExitRefused || !strings.Contains(out, "changed after approval") {
		t.Fatalf("exit %d, want 4 naming the edit\n%s\n%s", code, out, stderr)
	}
	f.ExpectAllAt(f.P.Change.From)
	mustVerify(t, runDirOf(t, out))
}

func TestRunRefusedOutsideTheChangeWindow(t *testing.T) {
	f := newAdminFixture(t, "", 3*time.Second, false)
	now := time.Now().UTC()
	f.P.Window = plan.Window{Start: now.Add(2 * time.Hour).Format("15:04"), End: now.Add(3 * time.Hour).Format("15:04"), Timezone: "UTC"}
	f.Write()
	f.Approve()
	out, stderr, code := runCLI(t, f.Getenv, "run", f.PlanFile)
	if code != poolpilot.ExitRefused || !strings.Contains(out, "outside the change window "+f.P.Window.String()) || !strings.Contains(out, "now ") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	mustVerify(t, runDirOf(t, out))
	if _, stderr, code := runCLI(t, f.Getenv, "run", f.PlanFile, "--override-window"); code != poolpilot.ExitBadInput || !strings.Contains(stderr, "--reason") {
		t.Errorf("--override-window without --reason: exit %d: %s", code, stderr)
	}
	elsewhere := t.TempDir()
	out, stderr, code = runCLI(t, f.Getenv, "run", f.PlanFile, "--override-window", "--reason", "INC-42 pool exhaustion", "--evidence-dir", elsewhere)
	if code != 0 {
		t.Fatalf("override: exit %d\n%s\n%s", code, out, stderr)
	}
	dir := runDirOf(t, out)
	if !strings.HasPrefix(dir, filepath.Join(elsewhere, f.P.Name)) {
		t.Errorf("--evidence-dir %s: the run folder is %s", elsewhere, dir)
	}
	mustVerify(t, dir)
	if !auditHas(t, dir, "window_override") {
		t.Error("the override is not in the audit log")
	}
}

func TestRunDryRunChangesNothing(t *testing.T) {
	f := newAdminFixture(t, "", 3*time.Second, false)
	out, stderr, code := runCLI(t, f.Getenv, "run", f.PlanFile, "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"verdict: ready", "nothing is changed", `{"max":100,"min":10}`, `{"max":10,"min":2}`, "Bearer $POOLPILOT_ADMIN_TOKEN", "/admin/pool"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "test-admin-token") {
		t.Error("token printed")
	}
	f.ExpectAllAt(f.P.Change.From)
	if d := f.RunDirs(); len(d) != 0 {
		t.Errorf("dry run created run folders %v", d)
	}
}

func TestRunBadInput(t *testing.T) {
	for _, args := range [][]string{{"run"}, {"run", "/no/such/plan.yaml"}, {"run", "--resume", t.TempDir(), writeSeedPlan(t)}, {"rollback", t.TempDir(), "--reason", "x"}, {"rollback", t.TempDir()}} {
		if _, stderr, code := runCLI(t, nil, args...); code != poolpilot.ExitBadInput {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
}

func TestAskOperator(t *testing.T) {
	for in, want := range map[string]string{"c\n": "continue", "leave\n": "leave", "r\n": "rollback", "\n": "rollback", "": "rollback"} {
		var errb bytes.Buffer
		e := &env{stdin: strings.NewReader(in), stderr: &errb, getenv: func(string) string { return "" }}
		if got := askOperator(e)(); got != want || !strings.Contains(errb.String(), "[l]eave as is") {
			t.Errorf("answer %q: %q, want %q (%s)", in, got, want, errb.String())
		}
	}
}

func writeSeedPlan(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "p.yaml")
	if _, stderr, code := runCLI(t, nil, "plan", "init", "--out", file); code != 0 {
		t.Fatal(stderr)
	}
	return file
}
