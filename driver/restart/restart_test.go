package restart

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/plan"
)

func TestSetEnvKeepsOtherLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "svc.env")
	orig := "# ledgerd\nDATABASE_URL=postgres://x@h/db\nexport DB_POOL_MAX=10\nDB_POOL_IDLE_TIMEOUT=30000\n"
	os.WriteFile(path, []byte(orig), 0o640)
	old, err := SetEnv(path, map[string]string{"DB_POOL_MAX": "200", "DB_POOL_MIN": "20"})
	if err != nil {
		t.Fatal(err)
	}
	if old["DB_POOL_MAX"] != "10" || old["DB_POOL_MIN"] != "" {
		t.Errorf("old = %v", old)
	}
	got, _ := os.ReadFile(path)
	want := "# ledgerd\nDATABASE_URL=postgres://x@h/db\nDB_POOL_MAX=200\nDB_POOL_IDLE_TIMEOUT=30000\nDB_POOL_MIN=20\n"
	if string(got) != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v not kept", st.Mode().Perm())
	}
	// idempotent
	if _, err := SetEnv(path, map[string]string{"DB_POOL_MAX": "200", "DB_POOL_MIN": "20"}); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(path)
	if string(again) != want {
		t.Errorf("second apply changed the file:\n%s", again)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
}

func TestApplyRunsRestartCommand(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, "svc.env")
	marker := filepath.Join(dir, "restarted")
	inst := plan.Instance{Name: "a", EnvFile: env, RestartCommand: []string{"sh", "-c", "cat " + env + " > " + marker + "; echo restarted"}}
	var log bytes.Buffer
	d := &Driver{}
	if err := d.Apply(context.Background(), inst, plan.PoolSize{Max: 50, Min: 5}, &log); err != nil {
		t.Fatal(err)
	}
	seen, err := os.ReadFile(marker)
	if err != nil || !strings.Contains(string(seen), "DB_POOL_MAX=50") {
		t.Fatalf("restart command did not see the new env: %q %v", seen, err)
	}
	if !strings.Contains(log.String(), "restarted") || !strings.Contains(log.String(), "exit 0") {
		t.Errorf("log: %s", log.String())
	}
	inst.RestartCommand = []string{"sh", "-c", "echo boom >&2; exit 7"}
	err = d.Apply(context.Background(), inst, plan.PoolSize{Max: 10, Min: 2}, &log)
	if err == nil || !strings.Contains(err.Error(), "exit status 7") {
		t.Errorf("failing restart: %v", err)
	}
}

// A new env file may hold a database password: it is created 0600, and a
// write that cannot happen says which file it was.
func TestSetEnvNewFileAndErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.env")
	if _, err := SetEnv(path, map[string]string{"DB_POOL_MAX": "20"}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("new env file: %v %v, want mode 0600", st, err)
	}
	missing := filepath.Join(t.TempDir(), "no-such-dir", "svc.env")
	if _, err := SetEnv(missing, map[string]string{"DB_POOL_MAX": "20"}); err == nil || !strings.Contains(err.Error(), "svc.env") {
		t.Errorf("write into a missing folder: %v, want an error naming svc.env", err)
	}
}

// A restart command that fails once is run again; one that cannot start is
// not; one that always fails is given DefaultAttempts runs.
func TestApplyRetriesAFailedRestart(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	// Fails on its first run, succeeds on the next.
	script := "echo x >> " + count + "; [ $(wc -l < " + count + ") -ge 2 ] || { echo busy >&2; exit 1; }"
	inst := plan.Instance{Name: "a", EnvFile: filepath.Join(dir, "svc.env"), RestartCommand: []string{"sh", "-c", script}}
	noSleep := driver.Retry{Sleep: func(context.Context, time.Duration) error { return nil }}
	d := &Driver{Retry: noSleep}
	var log bytes.Buffer
	if err := d.Apply(context.Background(), inst, plan.PoolSize{Max: 50, Min: 5}, &log); err != nil {
		t.Fatalf("apply: %v\n%s", err, log.String())
	}
	if b, _ := os.ReadFile(count); strings.Count(string(b), "x") != 2 {
		t.Errorf("ran %d times, want 2", strings.Count(string(b), "x"))
	}
	if !strings.Contains(log.String(), "attempt 1 failed (transient)") || !strings.Contains(log.String(), "succeeded at attempt 2") {
		t.Errorf("log:\n%s", log.String())
	}
	os.Remove(count)
	inst.RestartCommand = []string{"sh", "-c", "echo x >> " + count + "; exit 3"}
	if err := d.Apply(context.Background(), inst, plan.PoolSize{Max: 50, Min: 5}, &log); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("always failing: %v", err)
	}
	if b, _ := os.ReadFile(count); strings.Count(string(b), "x") != DefaultAttempts {
		t.Errorf("always failing command ran %d times, want %d", strings.Count(string(b), "x"), DefaultAttempts)
	}
	log.Reset()
	inst.RestartCommand = []string{filepath.Join(dir, "no-such-command")}
	if err := d.Apply(context.Background(), inst, plan.PoolSize{Max: 50, Min: 5}, &log); err == nil || strings.Contains(log.String(), "retry") {
		t.Errorf("missing command: %v (retried?)\n%s", err, log.String())
	}
}
