package restart

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
