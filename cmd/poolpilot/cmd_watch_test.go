package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/promtest"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/plan"
)

// TestWatchGapsAreInconclusiveThenCount polls a /healthz that answers
// garbage: every health criterion is inconclusive, never ok, and with
// --max-inconclusive a trigger fires for want of data.
func TestWatchGapsAreInconclusiveThenCount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>502 Bad Gateway</html>"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("- {name: slow, expr: latency_p95_ms > 1s, role: rollback, class: P1, for: 1m}\n- {name: down, expr: downtime_s > 1h, role: rollback, class: P0}\n"), 0o644)
	out, stderr, code := runCLI(t, nil, "watch", "--health", srv.URL+"/healthz", "--criteria", file, "--interval", "100ms", "--max-inconclusive", "500ms", "--duration", "5s", "--json")
	if code != poolpilot.ExitFailed || !strings.Contains(stderr, `"slow" (P1) fired: inconclusive for`) {
		t.Fatalf("exit %d stderr %q\n%s", code, stderr, out)
	}
	lines := watchLines(t, out)
	if seq := strings.Join(states(lines, "slow"), ">"); seq != "inconclusive>firing" {
		t.Fatalf("slow went %s", seq)
	}
	if seq := strings.Join(states(lines, "down"), ">"); seq != "ok" {
		t.Fatalf("down went %s: downtime is data, not a gap", seq)
	}
}

func TestWatchTable(t *testing.T) {
	var b strings.Builder
	r := &watchRenderer{w: &b, table: true, interval: time.Second, skipped: []skippedCriterion{{Name: "db-cpu-high", Metric: "db.cpu", Reason: "give --dsn-env VAR"}}}
	v, th := 0.05, 0.01
	r.evaluation(criteria.Evaluation{Time: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), Results: []criteria.Result{
		{Name: "error-rate-high", Role: "rollback", Class: "P0", Expr: "error_rate > 0.01", State: criteria.StatePending, Value: &v, Threshold: &th, LeftS: 3.5, ForS: 5, Instance: "127.0.0.1:8080"},
		{Name: "pool-max", Role: "success", Expr: "pool.max == 200", State: criteria.StateInconclusive, Reason: "no data for pool.max"},
	}, Verdict: criteria.Verdict{WindowS: 3600, Failing: []string{"pool-max"}}})
	out := b.String()
	for _, want := range []string{"\x1b[H\x1b[2J", "CRITERION", "error-rate-high  rollback P0  5 %", "3.5 s", "127.0.0.1:8080", "inconclusive: no data for pool.max", "not ok: pool-max", "not watched: db-cpu-high (db.cpu: give --dsn-env VAR)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWatchBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknownKey := write("unknown.yaml", "- name: a\n  expr: error_rate > 0.01\n  role: rollback\n  threshold: 3\n")
	badExpr := write("bad.yaml", "- name: a\n  expr: error_rate >> 1\n  role: rollback\n")
	needsDB := write("db.yaml", "- name: cpu\n  expr: db.cpu > 0.9\n  role: rollback\n")
	badFor := write("for.yaml", "- name: a\n  expr: error_rate > 0.01\n  role: rollback\n  for: 300\n")
	h := "http://127.0.0.1:1/healthz"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"watch"}, "nothing to watch"},
		{[]string{"watch", "--health", h, "--plan", "x.yaml"}, "not both"},
		{[]string{"watch", "--health", "localhost:8080"}, "want http://host:port/healthz"},
		{[]string{"watch", "--health", h, "--interval", "0s"}, "--interval must be positive"},
		{[]string{"watch", "--health", h, "--criteria", unknownKey}, `[4:3] unknown field "threshold"`},
		{[]string{"watch", "--health", h, "--criteria", badExpr}, `criterion "a": expr "error_rate >> 1"`},
		{[]string{"watch", "--health", h, "--criteria", badFor}, "no unit"},
		{[]string{"watch", "--health", h, "--criteria", needsDB}, `criterion "cpu": metric db.cpu cannot be watched: give --dsn-env VAR`},
		{[]string{"watch", "--health", h, "--criteria", filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{"watch", "--health", h, "--dsn-env", "NOPE_DSN"}, "NOPE_DSN: the variable is not set"},
		{[]string{"watch", "--health", h, "--plan", ""}, ""},
	}
	for _, c := range cases[:len(cases)-1] {
		_, stderr, code := runCLI(t, nil, c.args...)
		if code != poolpilot.ExitBadInput || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// watchLines parses watch's JSON lines.
func watchLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

// states returns the successive distinct states of criterion name.
func states(lines []map[string]any, name string) []string {
	var out []string
	for _, l := range lines {
		if l["type"] != "evaluation" {
			continue
		}
		for _, r := range l["results"].([]any) {
			res := r.(map[string]any)
			if res["name"] == name {
				st := res["state"].(string)
				if len(out) == 0 || out[len(out)-1] != st {
					out = append(out, st)
				}
			}
		}
	}
	return out
}

// traffic sends GET requests to url every 20 ms (each in its own goroutine,
// at most 64 at once) until the test ends.
func traffic(t *testing.T, url string) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}()
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// TestWatchLedgerdFaults runs watch against a real ledgerd on a real
// PostgreSQL and makes its faults fire the right triggers.
func TestWatchLedgerdFaults(t *testing.T) {
	pg := pgtest.New(t, pgtest.Options{})
	dbURL := pg.URL("postgres")
	ld := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: dbURL, AdminToken: "tok", Window: 2 * time.Second})
	// /v1/ routes pass through the fault injector; an unknown one answers 404
	// without touching the database.
	traffic(t, ld.URL+"/v1/no-such-route")
	getenv := func(k string) string {
		if k == "WATCH_DSN" {
			return dbURL
		}
		return ""
	}
	base := []string{"watch", "--health", ld.URL + "/healthz", "--integrity", ld.URL + "/v1/integrity",
		"--pool-max", "10", "--pool-min", "1", "--window", "2s", "--interval", "250ms", "--json"}
	fx := &watchFixture{ld: ld, getenv: getenv, base: base}
	t.Run("quiet", func(t *testing.T) { watchQuiet(t, fx) })
	t.Run("plan", func(t *testing.T) { watchPlan(t, fx) })
	t.Run("promql", func(t *testing.T) { watchPromql(t, fx) })
	t.Run("errors", func(t *testing.T) { watchErrors(t, fx) })
	t.Run("latency", func(t *testing.T) { watchLatency(t, fx) })
}

// watchFixture is a ledgerd on its own PostgreSQL with traffic.
type watchFixture struct {
	ld     *ledgerdtest.Instance
	getenv func(string) string
	base   []string
}

func watchQuiet(t *testing.T, fx *watchFixture) {
	getenv, base := fx.getenv, fx.base
	out, stderr, code := runCLI(t, getenv, append(base, "--dsn-env", "WATCH_DSN", "--duration", "2s")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stderr, out)
	}
	lines := watchLines(t, out)
	start, end := lines[0], lines[len(lines)-1]
	if start["type"] != "start" || end["type"] != "end" || end["exit"].(float64) != 0 {
		t.Fatalf("start %v end %v", start, end)
	}
	if _, skipped := start["skipped"]; !strings.Contains(out, `"name":"load-violations"`) || !skipped {
		t.Fatalf("load-violations should be reported as skipped: %v", start)
	}
	for _, want := range []string{"health", "integrity", "pgstat", "hostcpu"} {
		if !strings.Contains(strings.Join(toStrings(start["sources"]), ","), want) {
			t.Fatalf("sources %v lack %s", start["sources"], want)
		}
	}
	last := lines[len(lines)-2]
	for _, name := range []string{"pool-max", "integrity", "db-cpu-high", "error-rate-high"} {
		if st := states([]map[string]any{last}, name); len(st) != 1 || st[0] != "ok" {
			t.Errorf("%s: %v in the last evaluation, want ok", name, st)
		}
	}
}

func watchPlan(t *testing.T, fx *watchFixture) {
	ld, getenv := fx.ld, fx.getenv
	opts := plan.SeedInitOptions()
	opts.HealthURLs, opts.DSNEnv, opts.To = []string{ld.URL + "/healthz"}, "WATCH_DSN", plan.PoolSize{Max: 10, Min: 1}
	opts.From = plan.PoolSize{Max: 5, Min: 1}
	body, err := plan.Init(opts)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, getenv, "watch", "--plan", file, "--window", "2s", "--interval", "250ms", "--duration", "2s", "--baseline", "1s", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stderr, out)
	}
	lines := watchLines(t, out)
	start := lines[0]
	crit := strings.Join(toStrings(start["criteria"]), ",")
	srcs := strings.Join(toStrings(start["sources"]), ",")
	if !strings.Contains(crit, "latency_p95_no_regression") || !strings.Contains(srcs, "pgstat") {
		t.Fatalf("the plan's criteria and database were not used: criteria %s sources %s", crit, srcs)
	}
	// Before --baseline has passed the regression criterion has no
	// baseline; after it, it has one.
	seq := strings.Join(states(lines, "latency_p95_no_regression"), ">")
	if !strings.HasPrefix(seq, "inconclusive>ok") {
		t.Fatalf("latency_p95_no_regression went %s, want inconclusive (no baseline) then ok", seq)
	}
}

func watchPromql(t *testing.T, fx *watchFixture) {
	ld := fx.ld
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ps := promtest.New(t, promtest.Options{Targets: []string{ld.Addr}})
	if err := ps.WaitTargetsUp(ctx); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte(`- name: fleet-pool-max
  expr: promql > 5
  query: max(poolpilot_pool_max_connections)
  role: rollback
  class: P1
  for: 1s
`), 0o644)
	out, stderr, code := runCLI(t, nil, "watch", "--health", ld.URL+"/healthz", "--prometheus", ps.URL, "--criteria", file, "--interval", "250ms", "--duration", "10s", "--json")
	if code != poolpilot.ExitFailed || !strings.Contains(stderr, `"fleet-pool-max" (P1) fired`) {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, out)
	}
	lines := watchLines(t, out)
	if seq := strings.Join(states(lines, "fleet-pool-max"), ">"); !strings.Contains(seq, "pending>firing") {
		t.Fatalf("fleet-pool-max went %s", seq)
	}
	assertDecision(t, lines, "fleet-pool-max", "promql:max(poolpilot_pool_max_connections)")
	// Without --prometheus the criterion cannot be watched: bad input.
	if _, stderr, code := runCLI(t, nil, "watch", "--health", ld.URL+"/healthz", "--criteria", file); code != 2 || !strings.Contains(stderr, "give --prometheus URL") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func watchErrors(t *testing.T, fx *watchFixture) {
	ld, getenv, base := fx.ld, fx.getenv, fx.base
	ld.SetFaults(t, ledger.FaultSettings{ErrorRate: 0.3})
	defer ld.SetFaults(t, ledger.FaultSettings{})
	out, stderr, code := runCLI(t, getenv, append(base, "--duration", "20s")...)
	if code != poolpilot.ExitFailed || !strings.Contains(stderr, `rollback trigger "error-rate-high" (P0) fired`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := watchLines(t, out)
	seq := strings.Join(states(lines, "error-rate-high"), ">")
	if !strings.Contains(seq, "pending>firing") {
		t.Fatalf("error-rate-high went %s, want it through pending to firing", seq)
	}
	assertDecision(t, lines, "error-rate-high", "error_rate")
}

func watchLatency(t *testing.T, fx *watchFixture) {
	ld, getenv, base := fx.ld, fx.getenv, fx.base
	ld.SetFaults(t, ledger.FaultSettings{ExtraLatencyMS: 1500})
	defer ld.SetFaults(t, ledger.FaultSettings{})
	out, stderr, code := runCLI(t, getenv, append(base, "--duration", "20s")...)
	if code != poolpilot.ExitFailed || !strings.Contains(stderr, `"latency-p95-high" (P1) fired`) {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, out[max(0, len(out)-6000):])
	}
	lines := watchLines(t, out)
	if seq := strings.Join(states(lines, "latency-p95-high"), ">"); !strings.Contains(seq, "pending>firing") {
		t.Fatalf("latency-p95-high went %s", seq)
	}
	assertDecision(t, lines, "latency-p95-high", "latency_p95_ms")
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func assertDecision(t *testing.T, lines []map[string]any, name, metric string) {
	t.Helper()
	var dec map[string]any
	for _, l := range lines {
		if l["type"] == "decision" {
			if dec != nil {
				t.Fatal("two decision lines")
			}
			dec = l
		}
	}
	if dec == nil || dec["criterion"] != name {
		t.Fatalf("decision %v, want %s", dec, name)
	}
	ev := dec["evidence"].([]any)
	if len(ev) < 2 {
		t.Fatalf("evidence %v: want the samples of a 2 s breach", ev)
	}
	for _, s := range ev {
		if s.(map[string]any)["metric"] != metric {
			t.Fatalf("evidence sample %v is not %s", s, metric)
		}
	}
	if end := lines[len(lines)-1]; end["fired"] != name || end["exit"].(float64) != 3 {
		t.Fatalf("end line %v", end)
	}
}
