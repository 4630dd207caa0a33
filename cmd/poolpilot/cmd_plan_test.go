package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanInitThenCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "phase1.yaml")
	_, stderr, code := runCLI(t, nil, "plan", "init", "--out", file, "--soak", "60s", "--trigger-window", "5s")
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	out, stderr, code := runCLI(t, nil, "plan", "check", file, "--json")
	if code != 0 {
		t.Fatalf("check: exit %d: %s", code, stderr)
	}
	var res struct {
		Valid  bool   `json:"valid"`
		SHA256 string `json:"sha256"`
		Plan   struct {
			Soak struct {
				Duration string `json:"duration"`
			} `json:"soak"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if !res.Valid || len(res.SHA256) != 64 || res.Plan.Soak.Duration != "1m0s" {
		t.Errorf("check result %+v", res)
	}
	// init refuses to overwrite
	if _, _, code := runCLI(t, nil, "plan", "init", "--out", file); code != 2 {
		t.Errorf("overwrite: exit %d, want 2", code)
	}
	text, _, code := runCLI(t, nil, "plan", "check", file)
	if code != 0 || !strings.Contains(text, "sha256: "+res.SHA256) {
		t.Errorf("text check: exit %d\n%s", code, text)
	}
}

func TestPlanCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nname: x\nsoak: {duration: 1h, colour: red}\n"), 0o644)
	for _, args := range [][]string{
		{"plan", "check", bad},
		{"plan", "check", filepath.Join(dir, "missing.yaml")},
		{"plan", "check"},
		{"plan", "init", "--to", "10:20"},
		{"plan", "init", "--from", "ten"},
		{"plan", "init", "--driver", "ssh"},
	} {
		_, stderr, code := runCLI(t, nil, args...)
		if code != 2 || stderr == "" {
			t.Errorf("%v: exit %d stderr %q, want 2 with a message", args, code, stderr)
		}
	}
	_, stderr, _ := runCLI(t, nil, "plan", "check", bad)
	if !strings.Contains(stderr, "colour") || !strings.Contains(stderr, "line 3") {
		t.Errorf("unknown key not named with its line: %s", stderr)
	}
}

// plan init writes the schema modeline first, takes --url for workload
// http (and requires it), and --env-file / --restart-command for the
// restart driver.
func TestPlanInitFlags(t *testing.T) {
	dir := t.TempDir()
	checkJSON := func(file string) map[string]any {
		t.Helper()
		out, stderr, code := runCLI(t, nil, "plan", "check", file, "--json")
		if code != 0 {
			t.Fatalf("check %s: exit %d: %s", file, code, stderr)
		}
		var res struct {
			Plan map[string]any `json:"plan"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		return res.Plan
	}
	httpPlan := filepath.Join(dir, "http.yaml")
	if _, stderr, code := runCLI(t, nil, "plan", "init", "--workload", "http", "--url", "http://127.0.0.1:8080/ledger/accounts", "--out", httpPlan); code != 0 {
		t.Fatalf("init http: exit %d: %s", code, stderr)
	}
	text, _ := os.ReadFile(httpPlan)
	if first, _, _ := strings.Cut(string(text), "\n"); first != "# yaml-language-server: $schema=https://raw.githubusercontent.com/poolpilot/poolpilot/main/plan/plan.schema.json" {
		t.Errorf("first line %q is not the schema modeline", first)
	}
	if lt := checkJSON(httpPlan)["load_test"].(map[string]any); lt["url"] != "http://127.0.0.1:8080/ledger/accounts" || lt["workload"] != "http" {
		t.Errorf("load_test %v", lt)
	}
	rs := filepath.Join(dir, "restart.yaml")
	_, stderr, code := runCLI(t, nil, "plan", "init", "--driver", "restart", "--out", rs,
		"--health", "http://127.0.0.1:8081/healthz,http://127.0.0.1:8082/healthz",
		"--env-file", "/srv/{instance}/ledgerd.env", "--restart-command", `sh -c 'kill -HUP "$(cat /run/{instance}.pid)"'`)
	if code != 0 {
		t.Fatalf("init restart: exit %d: %s", code, stderr)
	}
	raw, _ := json.Marshal(checkJSON(rs)["instances"])
	var insts []struct {
		Name           string   `json:"name"`
		EnvFile        string   `json:"env_file"`
		RestartCommand []string `json:"restart_command"`
	}
	json.Unmarshal(raw, &insts)
	if len(insts) != 2 || insts[1].EnvFile != "/srv/instance-2/ledgerd.env" ||
		strings.Join(insts[1].RestartCommand, "|") != `sh|-c|kill -HUP "$(cat /run/instance-2.pid)"` {
		t.Errorf("instances %+v", insts)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--workload", "http"}, "--url"},
		{[]string{"--url", "http://127.0.0.1:8080/"}, "workload http"},
		{[]string{"--env-file", "/etc/x.env"}, "driver restart"},
		{[]string{"--restart-command", "systemctl restart x"}, "driver restart"},
		{[]string{"--driver", "restart", "--restart-command", "sh -c 'open"}, "restart command"},
		{[]string{"--driver", "restart", "--health", "http://a:1/healthz,http://b:1/healthz", "--env-file", "/a,/b,/c"}, "3 env files for 2 instances"},
	} {
		_, stderr, code := runCLI(t, nil, append([]string{"plan", "init"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want 2 naming %q", tc.args, code, stderr, tc.want)
		}
	}
}

// plan check lists every problem of a file at once, each with its line:
// an unknown key, a bad value, a wrong type and an explicit zero.
func TestPlanCheckListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if _, stderr, code := runCLI(t, nil, "plan", "init", "--out", file); code != 0 {
		t.Fatal(stderr)
	}
	b, _ := os.ReadFile(file)
	text := strings.Replace(string(b), "soak:\n", "soak:\n  colour: red\n", 1)
	text = strings.Replace(text, "driver: admin", "driver: ssh", 1)
	text = strings.Replace(text, "verify_timeout: 60s", "verify_timeout: [60s]", 1)
	text = strings.Replace(text, "batch_size: 1 ", "batch_size: 0 ", 1)
	os.WriteFile(file, []byte(text), 0o644)
	_, stderr, code := runCLI(t, nil, "plan", "check", file)
	if code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, stderr)
	}
	lines := strings.Split(text, "\n")
	lineOf := func(s string) int {
		for i, l := range lines {
			if strings.Contains(l, s) {
				return i + 1
			}
		}
		t.Fatalf("no %q", s)
		return 0
	}
	for _, want := range []string{
		fmt.Sprintf("line %d: soak.colour: unknown field", lineOf("colour: red")),
		fmt.Sprintf("line %d: driver: \"ssh\" is not a driver", lineOf("driver: ssh")),
		fmt.Sprintf("line %d: rollout.verify_timeout: must be a duration", lineOf("verify_timeout: [60s]")),
		fmt.Sprintf("line %d: rollout.batch_size: must be at least 1 (got 0)", lineOf("batch_size: 0")),
		"4 problem(s)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// An unset database.dsn_env variable is bad input (exit 2) for run and
// preflight, before anything is contacted or written.
func TestRunAndPreflightNeedTheDSN(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if _, stderr, code := runCLI(t, nil, "plan", "init", "--out", file, "--evidence-dir", filepath.Join(dir, "evidence")); code != 0 {
		t.Fatal(stderr)
	}
	getenv := func(k string) string {
		return map[string]string{"POOLPILOT_ADMIN_TOKEN": "tok", "DATABASE_URL": " "}[k]
	}
	for _, args := range [][]string{{"preflight", file}, {"run", file}, {"run", file, "--dry-run"}} {
		_, stderr, code := runCLI(t, getenv, args...)
		if code != 2 || !strings.Contains(stderr, "DATABASE_URL (database.dsn_env) is not set") {
			t.Errorf("%v: exit %d %q, want 2 naming DATABASE_URL", args, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "evidence")); !os.IsNotExist(err) {
		t.Errorf("evidence written: %v", err)
	}
}
