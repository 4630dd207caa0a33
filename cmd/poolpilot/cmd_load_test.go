package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

func okServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/"
}

func TestLoadBadInput(t *testing.T) {
	url := okServer(t)
	env := func(k string) string { return map[string]string{"EMPTY": ""}[k] }
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"load"}, "load http"},
		{[]string{"load", "http", "--url", url}, "exactly one of --rate"},
		{[]string{"load", "http", "--url", url, "--rate", "0"}, "above 0"},
		{[]string{"load", "http", "--url", url, "--rate", "-5"}, "above 0"},
		{[]string{"load", "http", "--url", url, "--rate", "abc"}, "rate"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--concurrency", "2"}, "exactly one"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--duration", "5"}, "duration"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--duration", "-1s"}, "duration"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--warmup", "soon"}, "warmup"},
		{[]string{"load", "http", "--url", url, "--ramp", "100-200/5s"}, "FROM:TO/DURATION"},
		{[]string{"load", "http", "--url", url, "--ramp", "0:100/5s", "--warmup", "5s"}, "as long as the ramp"},
		{[]string{"load", "http", "--url", url, "--concurrency", "0"}, "concurrency"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--threshold", "p95<500"}, "time unit"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--threshold", "p97<5ms"}, "unknown metric"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--threshold", "pool_wait_p95<5ms"}, "load sql"},
		{[]string{"load", "http", "--rate", "10"}, "--url is missing"},
		{[]string{"load", "http", "--url", "127.0.0.1:1", "--rate", "10"}, "absolute"},
		{[]string{"load", "http", "--url", closedPort(t), "--rate", "10", "--duration", "1s"}, "unreachable"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--header", "NoColon"}, "Key: Value"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--body-file", "/nonexistent/body"}, "body-file"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--workload", "nope"}, "ledger"},
		{[]string{"load", "http", "--url", url, "--rate", "10", "--workload", "ledger", "--method", "POST"}, "does not apply"},
		{[]string{"load", "sql", "--rate", "10", "--workload", "select1"}, "DATABASE_URL is empty"},
		{[]string{"load", "sql", "--rate", "10", "--workload", "select1", "--dsn-env", "EMPTY"}, "EMPTY is empty"},
		{[]string{"load", "sql", "--rate", "10", "--dsn", "postgres://127.0.0.1:1/x", "--workload", "select1", "--query", "select 2"}, "exactly one of --query"},
		{[]string{"load", "sql", "--rate", "10", "--dsn", "postgres://127.0.0.1:1/x", "--workload", "nope"}, "select1 and ledger"},
		{[]string{"load", "sql", "--rate", "10", "--dsn", "mysql://u:hunter2@h/x", "--workload", "select1"}, "scheme"},
		{[]string{"load", "sql", "--rate", "10", "--dsn", "postgres://u:hunter2@127.0.0.1:1/x", "--workload", "select1", "--pool-max", "0"}, "max"},
	} {
		out, stderr, code := runCLI(t, env, c.args...)
		if code != poolpilot.ExitBadInput || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", c.args, code, stderr, c.want)
		}
		if strings.Contains(stderr+out, "hunter2") {
			t.Errorf("%v: the password is printed: %q", c.args, stderr)
		}
	}
}

// loadJSON runs the CLI with --json - and decodes the report.
func loadJSON(t *testing.T, getenv func(string) string, args ...string) (map[string]any, string, int) {
	t.Helper()
	out, stderr, code := runCLI(t, getenv, append(args, "--json", "-")...)
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: stdout is not the JSON report (%v): %q; stderr %q", args, err, out, stderr)
	}
	return rep, stderr, code
}

func TestLoadHTTPJSONSchemaAndThresholds(t *testing.T) {
	url := okServer(t)
	rep, stderr, code := loadJSON(t, nil, "load", "http", "--url", url, "--rate", "100", "--duration", "1s",
		"--threshold", "error_rate<0.001", "--threshold", "p99<2s", "--threshold", "dropped==0")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, k := range []string{"target_rate", "achieved_rate", "requests", "errors", "error_rate", "late", "dropped",
		"violations", "latency_ms", "lag_ms", "series", "thresholds", "model", "service_ms"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
	if _, ok := rep["pool"]; ok {
		t.Error("an HTTP run has no pool object")
	}
	lat := rep["latency_ms"].(map[string]any)
	for _, k := range []string{"p50", "p95", "p99", "max"} {
		if _, ok := lat[k]; !ok {
			t.Errorf("latency_ms lacks %q", k)
		}
	}
	if rep["requests"].(float64) != 100 || rep["target_rate"].(float64) != 100 {
		t.Errorf("requests %v target_rate %v, want 100 and 100", rep["requests"], rep["target_rate"])
	}
	if !strings.Contains(stderr, "achieved") {
		t.Errorf("with --json - the human summary goes to stderr: %q", stderr)
	}

	rep, _, code = loadJSON(t, nil, "load", "http", "--url", url, "--ramp", "0:100/1s")
	if code != 0 || rep["duration_s"].(float64) != 1 || rep["target_rate"].(float64) != 50 || rep["requests"].(float64) != 50 {
		t.Errorf("--ramp 0:100/1s without --duration: exit %d, duration %v, target %v, requests %v; want the ramp's 1 s, 50/s, 50",
			code, rep["duration_s"], rep["target_rate"], rep["requests"])
	}
	_, stderr, code = runCLI(t, nil, "load", "http", "--url", url, "--rate", "100", "--duration", "1500ms", "--progress")
	if code != 0 || !strings.Contains(stderr, "   1s  rate") || !strings.Contains(stderr, "(target 100.0)") {
		t.Errorf("--progress: exit %d, stderr %q; want a line per second", code, stderr)
	}
	_, stderr, code = runCLI(t, nil, "load", "http", "--url", url, "--rate", "50", "--duration", "500ms",
		"--threshold", "error_rate<0.001", "--threshold", "p50<1ns")
	if code != poolpilot.ExitFailed || !strings.Contains(stderr, "p50<1e-06ms") || strings.Contains(stderr, "error_rate<0.001 (") {
		t.Errorf("a failing threshold: exit %d, stderr %q; want 3 naming only p50", code, stderr)
	}
}

func TestLoadHTTPBodyHeaderAndJSONFile(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 64)
		n, _ := r.Body.Read(b)
		select {
		case got <- r.Method + " " + r.Header.Get("X-K") + " " + string(b[:n]):
		default:
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	body, jf := filepath.Join(dir, "body.json"), filepath.Join(dir, "out.json")
	os.WriteFile(body, []byte(`{"a":1}`), 0o600)
	out, stderr, code := runCLI(t, nil, "load", "http", "--url", srv.URL, "--method", "put", "--body-file", body,
		"--header", "X-K: v", "--concurrency", "2", "--duration", "300ms", "--json", jf)
	if code != 0 || !strings.Contains(out, "closed, concurrency 2") {
		t.Fatalf("exit %d, out %q, stderr %q", code, out, stderr)
	}
	if g := <-got; g != `PUT v {"a":1}` {
		t.Errorf("request arrived as %q", g)
	}
	data, err := os.ReadFile(jf)
	if err != nil || !strings.Contains(string(data), `"model": "closed"`) {
		t.Errorf("--json file: %v %q", err, data)
	}
}

func TestLoadHelpHasExamples(t *testing.T) {
	for _, args := range [][]string{{"load", "--help"}, {"load", "http", "--help"}, {"load", "sql", "--help"}} {
		out, _, code := runCLI(t, nil, args...)
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--threshold") {
			t.Errorf("%v: exit %d, help without examples: %q", args, code, out)
		}
	}
}

// TestLoadLedgerAndSQL runs the ledger workload against the real ledgerd and
// select1 and ledger through the pool, on one private PostgreSQL cluster.
func TestLoadLedgerAndSQL(t *testing.T) {
	pg := pgtest.New(t, pgtest.Options{})
	dsn := pg.URL("postgres")
	ld := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: dsn})
	rep, stderr, code := loadJSON(t, nil, "load", "http", "--url", ld.URL, "--workload", "ledger", "--rate", "100",
		"--duration", "1s", "--tenants", "5", "--threshold", "violations==0")
	if code != 0 || rep["violations"].(float64) != 0 || rep["errors"].(float64) != 0 || rep["workload"] != "ledger" {
		t.Fatalf("ledger over HTTP: exit %d, violations %v errors %v, stderr %q", code, rep["violations"], rep["errors"], stderr)
	}
	env := func(k string) string { return map[string]string{"PGURL": dsn}[k] }
	for _, wl := range []string{"select1", "ledger"} {
		rep, stderr, code = loadJSON(t, env, "load", "sql", "--dsn-env", "PGURL", "--workload", wl, "--concurrency", "4",
			"--pool-max", "2", "--duration", "1s", "--threshold", "pool_utilization_max<=1")
		if code != 0 {
			t.Fatalf("sql %s: exit %d, stderr %q", wl, code, stderr)
		}
		pool, ok := rep["pool"].(map[string]any)
		if !ok || pool["utilization_max"].(float64) <= 0 {
			t.Errorf("sql %s: pool %v; want a utilization from the pool's stats", wl, rep["pool"])
		}
		if rep["requests"].(float64) < 10 || rep["violations"].(float64) != 0 {
			t.Errorf("sql %s: requests %v violations %v", wl, rep["requests"], rep["violations"])
		}
	}
	_, stderr, code = runCLI(t, env, "load", "sql", "--dsn-env", "PGURL", "--query", "selec 1", "--rate", "10", "--duration", "1s")
	if code != poolpilot.ExitBadInput || !strings.Contains(stderr, "preflight") {
		t.Errorf("a query that does not parse: exit %d, stderr %q", code, stderr)
	}
}
