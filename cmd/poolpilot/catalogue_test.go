package main

// The bad-input catalogue of the CLI (issue 10): every command fed
// malformed flags, arguments, environment and plan files, each with the
// exit status and a substring of the message it must give, and a check
// that nothing was written (no evidence folder, no output file) by a
// refused command. The HTTP and env halves are in tests/reliability/.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
)

type cliCase struct {
	name string
	args []string // "PLAN" is replaced by the case's plan file
	env  map[string]string
	// plan, if set, edits a valid plan's YAML text (old → new) for the case.
	plan     [2]string
	planText string // whole plan file text (instead of an edit)
	code     int
	want     string // substring of stderr
}

func catalogueCases() []cliCase {
	bad := poolpilot.ExitBadInput
	return []cliCase{
		// Commands and flags.
		{name: "unknown command", args: []string{"frobnicate"}, code: bad, want: "unknown command"},
		{name: "unknown flag", args: []string{"version", "--frob"}, code: bad, want: "unknown flag"},
		{name: "version extra arg", args: []string{"version", "x"}, code: bad, want: ""},
		{name: "plan check no file", args: []string{"plan", "check"}, code: bad, want: ""},
		{name: "plan check missing file", args: []string{"plan", "check", "/nonexistent/plan.yaml"}, code: bad, want: "no such file"},
		{name: "plan init bad to", args: []string{"plan", "init", "--to", "abc"}, code: bad, want: "to"},
		{name: "plan init min above max", args: []string{"plan", "init", "--to", "5:9"}, code: bad, want: "must not exceed max"},
		{name: "plan init negative soak", args: []string{"plan", "init", "--soak", "-5s"}, code: bad, want: "soak"},
		{name: "plan init bad driver", args: []string{"plan", "init", "--driver", "ssh"}, code: bad, want: "driver"},
		{name: "plan init bad workload", args: []string{"plan", "init", "--workload", "fast"}, code: bad, want: "workload"},
		{name: "plan init bad duration", args: []string{"plan", "init", "--baseline", "ten"}, code: bad, want: "baseline"},
		{name: "approve no --by", args: []string{"approve", "PLAN", "--statement", "I approve Phase 1 execution"}, code: bad, want: "--by"},
		{name: "approve wrong statement", args: []string{"approve", "PLAN", "--by", "Jane", "--statement", "ok"}, code: bad, want: "statement"},
		{name: "checklist tick unknown id", args: []string{"checklist", "tick", "nope", "--plan", "PLAN", "--by", "Jane"}, code: bad, want: "nope"},
		{name: "run missing plan", args: []string{"run", "/nonexistent/plan.yaml"}, code: bad, want: "no such file"},
		{name: "run no args", args: []string{"run"}, code: bad, want: ""},
		{name: "run resume missing dir", args: []string{"run", "PLAN", "--resume", "/nonexistent/run"}, code: bad, want: "/nonexistent/run"},
		{name: "preflight missing plan", args: []string{"preflight", "/nonexistent/plan.yaml"}, code: bad, want: "no such file"},
		{name: "report missing dir", args: []string{"report", "/nonexistent/run"}, code: bad, want: "/nonexistent/run"},
		{name: "evidence verify missing dir", args: []string{"evidence", "verify", "/nonexistent/run"}, code: bad, want: "/nonexistent/run"},
		{name: "evidence verify not a run folder", args: []string{"evidence", "verify", "/"}, code: bad, want: "not an evidence folder"},
		{name: "load http no url", args: []string{"load", "http", "--rate", "10", "--duration", "1s"}, code: bad, want: "url"},
		{name: "load http bad url", args: []string{"load", "http", "--url", "ftp://x", "--rate", "10", "--duration", "1s"}, code: bad, want: "url"},
		{name: "load http zero rate", args: []string{"load", "http", "--url", "http://127.0.0.1:1/", "--rate", "0", "--duration", "1s"}, code: bad, want: "rate"},
		{name: "load http bad threshold", args: []string{"load", "http", "--url", "http://127.0.0.1:1/", "--rate", "10", "--duration", "1s", "--threshold", "p99<<5"}, code: bad, want: "threshold"},
		{name: "load sql no DATABASE_URL", args: []string{"load", "sql", "--workload", "select1", "--rate", "10", "--duration", "1s"}, code: bad, want: "DATABASE_URL"},
		{name: "watch no source", args: []string{"watch"}, code: bad, want: ""},
		{name: "watch unknown flag", args: []string{"watch", "--health", "http://127.0.0.1:1/healthz", "--criterion", "x"}, code: bad, want: "unknown flag: --criterion"},
		{name: "watch bad interval", args: []string{"watch", "--health", "http://127.0.0.1:1/healthz", "--interval", "0s"}, code: bad, want: "interval"},
		{name: "watch missing criteria file", args: []string{"watch", "--health", "http://127.0.0.1:1/healthz", "--criteria", "/nonexistent/c.yaml"}, code: bad, want: "/nonexistent/c.yaml"},
		{name: "size no DATABASE_URL", args: []string{"size"}, code: bad, want: "DATABASE_URL"},
		{name: "rollback no args", args: []string{"rollback"}, code: bad, want: ""},
		{name: "demo bad scenario", args: []string{"demo", "--scenario", "explode"}, code: bad, want: "scenario"},
		// Environment.
		{name: "load sql DATABASE_URL not a URL", args: []string{"load", "sql", "--workload", "select1", "--rate", "10", "--duration", "1s"}, env: map[string]string{"DATABASE_URL": "::::"}, code: bad, want: "DATABASE_URL"},
		{name: "load sql DB_POOL_MAX text", args: []string{"load", "sql", "--workload", "select1", "--rate", "10", "--duration", "1s"}, env: map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x", "DB_POOL_MAX": "lots"}, code: bad, want: "DB_POOL_MAX"},
		// Plan files (poolpilot plan check).
		{name: "plan not yaml", args: []string{"plan", "check", "PLAN"}, planText: "{{{{", code: bad, want: ""},
		{name: "plan empty", args: []string{"plan", "check", "PLAN"}, planText: "", code: bad, want: ""},
		{name: "plan unknown field", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"driver: admin", "driver: admin\nfrobnicate: 1"}, code: bad, want: "frobnicate"},
		{name: "plan wrong version", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"version: 1", "version: 7"}, code: bad, want: "version"},
		{name: "plan no name", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"name: cat", "name: \"\""}, code: bad, want: "name"},
		{name: "plan name with slash", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"name: cat", "name: ../../etc"}, code: bad, want: "name"},
		{name: "plan to min above max", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"to: {max: 200, min: 20}", "to: {max: 20, min: 200}"}, code: bad, want: "min"},
		{name: "plan to equals from", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"to: {max: 200, min: 20}", "to: {max: 10, min: 2}"}, code: bad, want: "change"},
		{name: "plan negative max", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"to: {max: 200, min: 20}", "to: {max: -1, min: 0}"}, code: bad, want: "max"},
		{name: "plan max string", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"to: {max: 200, min: 20}", "to: {max: many, min: 20}"}, code: bad, want: "max"},
		{name: "plan bad driver", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"driver: admin", "driver: telepathy"}, code: bad, want: "driver"},
		{name: "plan bad health url", args: []string{"plan", "check", "PLAN"}, plan: [2]string{`health_url: "http://127.0.0.1:8080/healthz"`, `health_url: "not a url"`}, code: bad, want: "health_url"},
		{name: "plan no instances", args: []string{"plan", "check", "PLAN"}, plan: [2]string{`  - name: instance-1
    health_url: "http://127.0.0.1:8080/healthz"
    admin_token_env: POOLPILOT_ADMIN_TOKEN`, "  []"}, code: bad, want: "instances"},
		{name: "plan bad window time", args: []string{"plan", "check", "PLAN"}, plan: [2]string{`start: "02:00"`, `start: "25:99"`}, code: bad, want: "window"},
		{name: "plan bad timezone", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"timezone: UTC", "timezone: Mars/Olympus"}, code: bad, want: "timezone"},
		{name: "plan approvals negative", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"required: 1", "required: -1"}, code: bad, want: "approvals.required"},
		{name: "plan approvals too many", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"required: 1", "required: 99"}, code: bad, want: "approvals.required"},
		{name: "plan duplicate checklist id", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"id: on-call-available", "id: stakeholders-notified"}, code: bad, want: "stakeholders-notified"},
		{name: "plan dsn in plan", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"dsn_env: DATABASE_URL", "dsn_env: postgres://u:secret@h/db"}, code: bad, want: "dsn_env"},
		{name: "plan bad criterion expr", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"error_rate > 0.01", "error_rate >>> 0.01"}, code: bad, want: "error_rate"},
		{name: "plan unknown metric", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"error_rate > 0.01", "errror_rate > 0.01"}, code: bad, want: "errror_rate"},
		{name: "plan bad duration", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"verify_timeout: 60s", "verify_timeout: sixty"}, code: bad, want: "verify_timeout"},
		{name: "plan tab indentation", args: []string{"plan", "check", "PLAN"}, plan: [2]string{"  batch_size: 1", "\tbatch_size: 1"}, code: bad, want: ""},
	}
}

// TestCatalogueOfBadInput runs every case in a fresh folder and checks its
// exit status, its message, that it printed no Go panic, and that it wrote
// no evidence folder.
func TestCatalogueOfBadInput(t *testing.T) {
	valid, err := plan.Init(plan.SeedInitOptions())
	if err != nil {
		t.Fatal(err)
	}
	validText := strings.Replace(string(valid), "name: phase1_pool_scaling", "name: cat", 1)
	if _, err := plan.Parse([]byte(validText)); err != nil {
		t.Fatalf("the valid plan does not parse: %v", err)
	}
	cases := catalogueCases()
	if len(cases) < 50 {
		t.Fatalf("%d cases, want at least 50", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			planFile := filepath.Join(dir, "plan.yaml")
			text := validText
			if c.plan[0] != "" {
				if !strings.Contains(text, c.plan[0]) {
					t.Fatalf("the valid plan has no %q", c.plan[0])
				}
				text = strings.Replace(text, c.plan[0], c.plan[1], 1)
			} else if c.planText != "" || strings.HasPrefix(c.name, "plan empty") {
				text = c.planText
			}
			text = strings.Replace(text, "launch/evidence", filepath.Join(dir, "evidence"), 1)
			if err := os.WriteFile(planFile, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = strings.ReplaceAll(a, "PLAN", planFile)
			}
			getenv := func(k string) string { return c.env[k] }
			stdout, stderr, code := runCLI(t, getenv, args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("poolpilot %s: exit %d, stderr %q; want exit %d containing %q", strings.Join(c.args, " "), code, firstLines(stderr), c.code, c.want)
			}
			if strings.Contains(stdout+stderr, "goroutine ") || strings.Contains(stdout+stderr, "panic:") {
				t.Errorf("a Go panic was printed:\n%s", stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "evidence")); err == nil {
				t.Errorf("a refused command created an evidence folder")
			}
		})
	}
}

func firstLines(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
