package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// The seed's plan (max 200) against a default server (max_connections 100)
// must be refused before anything changes, naming the numbers.
func TestPreflightRefusesTheSeedPlanOnADefaultServer(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{Settings: map[string]string{"max_connections": "100"}})
	db := srv.URL("postgres")
	inst := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: db, AdminToken: "tok", Env: map[string]string{"DB_POOL_MAX": "10", "DB_POOL_MIN": "2"}})
	dir := t.TempDir()
	file := filepath.Join(dir, "phase1.yaml")
	if _, stderr, code := runCLI(t, nil, "plan", "init", "--out", file, "--health", inst.URL+"/healthz"); code != 0 {
		t.Fatal(stderr)
	}
	env := map[string]string{"DATABASE_URL": db, "POOLPILOT_ADMIN_TOKEN": "tok"}
	getenv := func(k string) string { return env[k] }
	out, stderr, code := runCLI(t, getenv, "preflight", file, "--json")
	if code != 4 {
		t.Fatalf("exit %d, want 4 (refused)\n%s\n%s", code, out, stderr)
	}
	var rep struct {
		OK     bool `json:"ok"`
		Checks []struct{ ID, Status, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	status := map[string]string{}
	for _, c := range rep.Checks {
		status[c.ID] = c.Status
		if c.ID == "connection_budget" && (!strings.Contains(c.Detail, "max 200") || !strings.Contains(c.Detail, "max_connections 100")) {
			t.Errorf("budget detail: %s", c.Detail)
		}
	}
	want := map[string]string{"database_reachable": "pass", "connection_budget": "fail", "instances_from_config": "pass", "criteria_fed": "pass",
		"baseline_health": "warn", "credentials_present": "pass", "manual_checklist": "fail"} // warn: no traffic yet and no soak.rate
	for id, st := range want {
		if status[id] != st {
			t.Errorf("%s = %q, want %q", id, status[id], st)
		}
	}
	if strings.Contains(out+stderr, "tok\"") {
		t.Error("admin token printed")
	}
	// The text form names the verdict.
	text, _, _ := runCLI(t, getenv, "preflight", file)
	if !strings.Contains(text, "FAIL  Connection budget") || !strings.Contains(text, "REFUSED") {
		t.Errorf("text:\n%s", text)
	}
}
