package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// ledgerd, the reference service, is conformant, resize included; the
// resize is undone.
func TestProbeLedgerdIsConformant(t *testing.T) {
	inst := ledgerdtest.Start(t, ledgerdtest.Options{AdminToken: "probe-tok", Env: map[string]string{"DB_POOL_MAX": "6", "DB_POOL_MIN": "2"}})
	getenv := func(k string) string { return map[string]string{"LEDGER_TOKEN": "probe-tok"}[k] }
	out, stderr, code := runCLI(t, getenv, "probe", inst.URL+"/healthz", "--load-url", inst.URL+"/v1/tenants/probe/trial-balance", "--admin-url", inst.URL+"/admin/pool", "--token-env", "LEDGER_TOKEN", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var rep struct {
		Conformant bool
		Checks     []struct{ ID, Status, Detail string }
		Criteria   []struct{ Criterion, Status string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	st := map[string]string{}
	for _, c := range rep.Checks {
		st[c.ID] = c.Status
	}
	for _, id := range []string{"status", "schema_valid", "schema_version", "figures_consistent", "figures_move", "resize", "criteria_fed"} {
		if st[id] != "pass" {
			t.Errorf("%s = %q, want pass\n%s", id, st[id], out)
		}
	}
	if len(rep.Criteria) != 14 {
		t.Errorf("%d criteria, want the default plan's 14", len(rep.Criteria))
	}
	if cfg := inst.Server.Pool().Config(); cfg.Max != 6 || cfg.Min != 2 {
		t.Errorf("pool left at max %d min %d, want 6 and 2", cfg.Max, cfg.Min)
	}
	if strings.Contains(out+stderr, "probe-tok") {
		t.Error("token printed")
	}
}

// A service whose document names a field errorRate instead of error_rate
// is not conformant (exit 3): the schema problem and the criteria it
// cannot feed are named.
func TestProbeMisnamedFieldIsNotConformant(t *testing.T) {
	var acquires atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		n := acquires.Add(3)
		fmt.Fprintf(w, `{"schema":"1.0","status":"ok","pool":{"max":10,"min":2,"total":2,"acquired":0,"idle":2,"waiting":0,"utilization":0,"wait_p50_ms":0,"wait_p95_ms":0,"wait_p99_ms":0,"acquires":%d,"acquire_timeouts":0,"opened":2,"closed":0},
		  "requests":{"total":%d,"errors":0,"errorRate":0,"latency_p50_ms":1,"latency_p95_ms":2,"latency_p99_ms":3,"window_seconds":60}}`, n, n)
	}))
	defer srv.Close()
	// The wrong path answers 404: reachable, not conformant (exit 3, named).
	out, stderr, code := runCLI(t, nil, "probe", srv.URL+"/health", "--polls", "2", "--interval", "10ms")
	if code != 3 || !strings.Contains(out, "HTTP 404: the URL answers but serves no health document") {
		t.Errorf("probe of a 404: exit %d, want 3 naming the status\n%s\n%s", code, out, stderr)
	}
	out, stderr, code = runCLI(t, nil, "probe", srv.URL+"/healthz", "--polls", "3", "--interval", "10ms")
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"FAIL  schema_valid", "requests: missing property 'error_rate'",
		"NO    error-rate", "field requests.error_rate absent from the health document",
		"PASS  figures_move", "yes   latency-p95", "n/a   db-cpu-high", "NOT CONFORMANT",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "is not conformant") {
		t.Errorf("stderr: %s", stderr)
	}
}

func TestProbeBadInputAndUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/healthz"
	ln.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"probe", dead}, "unreachable"},
		{[]string{"probe", "localhost:8080"}, "want http://host:port/healthz"},
		{[]string{"probe", dead, "--admin-url", "http://127.0.0.1:1/admin/pool"}, "POOLPILOT_ADMIN_TOKEN (--token-env) is not set"},
		{[]string{"probe", dead, "--polls", "1"}, "polls 1 (2–100)"},
		{[]string{"probe"}, "URL"},
	} {
		_, stderr, code := runCLI(t, nil, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// Two ledgerd processes on one database, each with a pool of 2 held open:
// the probe of one sees 4 backends with application_name ledgerd, more
// than its pool can hold, and warns (a warning: still conformant).
func TestProbeWarnsAboutSeveralProcesses(t *testing.T) {
	db := pgtest.NewDatabase(t)
	env := map[string]string{"DB_POOL_MAX": "2", "DB_POOL_MIN": "2"}
	a := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: db, Env: env})
	b := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: db, Env: env})
	deadline := time.Now().Add(10 * time.Second)
	for a.Server.Pool().Stats().Total < 2 || b.Server.Pool().Stats().Total < 2 {
		if time.Now().After(deadline) {
			t.Fatal("pools did not open their min connections")
		}
		time.Sleep(20 * time.Millisecond)
	}
	getenv := func(k string) string { return map[string]string{"SVC_DB": db}[k] }
	out, stderr, code := runCLI(t, getenv, "probe", a.URL+"/healthz", "--polls", "2", "--interval", "10ms", "--dsn-env", "SVC_DB")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, `WARN  processes          4 backends with application_name "ledgerd", more than one pool can hold (max 2): the service runs about 2 processes`) {
		t.Errorf("no processes warning:\n%s", out)
	}
	if _, stderr, code := runCLI(t, nil, "probe", a.URL+"/healthz", "--dsn-env", "UNSET_VAR"); code != 2 || !strings.Contains(stderr, "UNSET_VAR is not set") {
		t.Errorf("unset --dsn-env: exit %d %s", code, stderr)
	}
}
