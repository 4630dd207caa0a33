package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
	"github.com/poolpilot/poolpilot/internal/testutil"
	"github.com/poolpilot/poolpilot/runner"
)

var dashURLRe = regexp.MustCompile(`dashboard: (http://127\.0\.0\.1:\d+/)`)

// waitDashURL polls stderr for the dashboard's URL for up to d ("" if it never
// appears).
func waitDashURL(stderr *testutil.Buffer, d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		if m := dashURLRe.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeShowsRunsReadOnlyAndStops(t *testing.T) {
	dir := t.TempDir()
	evidencetest.Build(t, dir, evidencetest.Rollback)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testutil.Buffer
	token := "serve-token-0123456789"
	getenv := func(k string) string {
		if k == "DASH_TOKEN" {
			return token
		}
		return ""
	}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", dir, "--addr", "127.0.0.1:0", "--token-env", "DASH_TOKEN"}, getenv, strings.NewReader(""), &stdout, &stderr)
	}()
	url := waitDashURL(&stderr, 10*time.Second)
	if url == "" {
		t.Fatalf("no URL on stderr: %q", stderr.String())
	}
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("loopback warned: %s", stderr.String())
	}
	res, err := http.Get(url + "runs/" + evidencetest.RunID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "rolled-back") || strings.Contains(string(b), token) {
		t.Errorf("run page: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("POST", url+"api/runs/"+evidencetest.RunID+"/rollback", strings.NewReader(`{"reason":"x"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusConflict {
		t.Errorf("rollback of a finished run: %d, want 409", res.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if poolpilot.ExitCode(err) != 0 {
			t.Errorf("serve ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}

func TestServeBadInput(t *testing.T) {
	dir := t.TempDir()
	short := func(k string) string { return map[string]string{"SHORT": "abc"}[k] }
	for _, c := range []struct {
		args   []string
		getenv func(string) string
		want   string
	}{
		{[]string{"serve", dir + "/nope"}, nil, "not a folder"},
		{[]string{"serve"}, nil, "EVIDENCE_DIR"},
		{[]string{"serve", dir, "--addr", "nonsense"}, nil, "not host:port"},
		{[]string{"serve", dir, "--addr", "127.0.0.1:99999"}, nil, "invalid port"},
		{[]string{"serve", dir, "--token-env", "UNSET"}, nil, "not set"},
		{[]string{"serve", dir, "--token-env", "SHORT"}, short, "16 or more"},
	} {
		_, stderr, code := runCLI(t, c.getenv, c.args...)
		if code != poolpilot.ExitBadInput || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

func TestServeWarnsOffLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stderr testutil.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", t.TempDir(), "--addr", "0.0.0.0:0"}, func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "dashboard: http://") {
		if time.Now().After(deadline) {
			t.Fatalf("not serving: %q", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if !strings.Contains(stderr.String(), "WARNING: the dashboard listens on 0.0.0.0:0, not loopback") {
		t.Errorf("no loud warning: %q", stderr.String())
	}
}

// startServe runs poolpilot serve in the background and returns its URL
// and a stop func.
func startServe(t *testing.T, getenv func(string) string, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr testutil.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), getenv, strings.NewReader(""), io.Discard, &stderr)
	}()
	url := waitDashURL(&stderr, 10*time.Second)
	if url == "" {
		cancel()
		t.Fatalf("serve did not start: %q", stderr.String())
	}
	return url, func() { cancel(); <-done }
}

// TestServeAsksAnotherProcessRunToRollBack: a folder whose run lock is
// held (a run in progress elsewhere) gets the rollback request file that
// the live run acts on.
func TestServeAsksAnotherProcessRunToRollBack(t *testing.T) {
	root := t.TempDir()
	f, err := evidence.Open(root, evidence.Options{Plan: "elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Record(evidence.StateChange{From: "load-test", To: "soak"}); err != nil {
		t.Fatal(err)
	}
	lock, err := runner.TryLock(f.Dir())
	if err != nil {
		t.Fatal(err)
	}
	token := "serve-token-0123456789"
	url, stop := startServe(t, func(k string) string { return map[string]string{"T": token}[k] }, root, "--addr", "127.0.0.1:0", "--token-env", "T")
	defer stop()
	post := func() int {
		req, _ := http.NewRequest("POST", url+"api/runs/"+f.RunID()+"/rollback", strings.NewReader(`{"reason":"stop it","by":"bob"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(); code != http.StatusAccepted {
		t.Fatalf("rollback of a run held elsewhere: %d, want 202", code)
	}
	b, err := os.ReadFile(filepath.Join(runner.ControlDir(f.Dir()), runner.RequestFile))
	if err != nil || !strings.Contains(string(b), `"by":"bob (dashboard, admin token)"`) || !strings.Contains(string(b), `"reason":"stop it"`) {
		t.Fatalf("request file: %s %v", b, err)
	}
	lock.Release()
	if code := post(); code != http.StatusConflict {
		t.Errorf("rollback once no process holds the run: %d, want 409", code)
	}
}

// TestRunWithDashboard runs a real change with --dashboard: the live page
// appears, and a rollback posted to it with the token rolls the run back.
func TestRunWithDashboard(t *testing.T) {
	f := newAdminFixture(t, "", 60*time.Second, false)
	token := "dash-token-for-run-0123"
	f.Env["DASH"] = token
	var out, stderr testutil.Buffer
	done := make(chan int, 1)
	go func() {
		err := run(context.Background(), []string{"run", f.PlanFile, "--dashboard", "127.0.0.1:0", "--dashboard-token-env", "DASH"},
			f.Getenv, strings.NewReader(""), &out, &stderr)
		done <- poolpilot.ExitCode(err)
	}()
	url := waitDashURL(&stderr, 20*time.Second)
	if url == "" {
		t.Fatalf("no dashboard URL: %s", stderr.String())
	}
	dir := f.WaitState(change.StateSoak, 40*time.Second)
	id := filepath.Base(dir)
	var view struct {
		Live     bool              `json:"live"`
		State    string            `json:"state"`
		Criteria []json.RawMessage `json:"criteria"`
		Samples  []json.RawMessage `json:"samples"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := http.Get(url + "api/runs/" + id)
		if err == nil {
			_ = json.NewDecoder(res.Body).Decode(&view)
			res.Body.Close()
		}
		if view.State == "soak" && len(view.Criteria) > 0 && len(view.Samples) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard does not show the soak with criteria and samples: %+v", view)
		}
	}
	if !view.Live {
		t.Error("the run is not live on its dashboard")
	}
	req, _ := http.NewRequest("POST", url+"api/runs/"+id+"/rollback", strings.NewReader(`{"reason":"from the page","by":"Jane"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("rollback: %d", res.StatusCode)
	}
	select {
	case code := <-done:
		if code != poolpilot.ExitFailed || !strings.Contains(stderr.String(), "manual rollback by Jane (dashboard, admin token): from the page") {
			t.Fatalf("run: exit %d\n%s", code, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not end")
	}
	if strings.Contains(out.String()+stderr.String(), token) {
		t.Error("the dashboard token was printed")
	}
	f.ExpectAllAt(f.P.Change.From)
	mustVerify(t, dir)
}
