package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/advisor"
	"github.com/poolpilot/poolpilot/internal/pgbouncertest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

func TestSizeBadInput(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	badScript := filepath.Join(dir, "bad.sql")
	if err := os.WriteFile(badScript, []byte("select 1;\n-- the table does not exist\nselect *\n  from no_such_table;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": db, "DOWN_URL": "postgres://nobody:secret@127.0.0.1:1/x?connect_timeout=2"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"size", "--dsn-env", "UNSET_URL"}, "UNSET_URL is empty"},
		{[]string{"size", "--max", "0"}, "--max 0 must be between 1"},
		{[]string{"size", "--rounds", "0"}, "--rounds 0 must be between 1"},
		{[]string{"size", "--workload", "tpcc"}, `--workload "tpcc"`},
		{[]string{"size", "--workload", "ledger", "--query", "select 1"}, "at most one of"},
		{[]string{"size", "--duration-per-step", "0s"}, "--duration-per-step"},
		{[]string{"size", "--dsn-env", "DOWN_URL"}, "cannot open the pool"},
		{[]string{"size", "--script", badScript}, "statement 2 (line 3: select * …)"},
		{[]string{"size", "--script", filepath.Join(dir, "missing.sql")}, "--script"},
		{[]string{"size", "--query", "selec 1"}, "--query fails before the sweep"},
		{[]string{"size", "--plan", filepath.Join(dir, "missing.yaml")}, "--plan"},
	} {
		out, stderr, code := runCLI(t, getenv, tc.args...)
		if code != poolpilot.ExitBadInput || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
		if strings.Contains(out+stderr, "secret") {
			t.Errorf("%v: password printed", tc.args)
		}
	}
}

// TestSizeAgainstPostgreSQL runs a short sweep against the real server:
// JSON schema, chart, saved report, and the plan judged against the budget.
func TestSizeAgainstPostgreSQL(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.yaml")
	health := "http://127.0.0.1:1/healthz,http://127.0.0.2:1/healthz,http://127.0.0.3:1/healthz"
	if _, stderr, code := runCLI(t, nil, "plan", "init", "--out", planFile, "--health", health); code != 0 {
		t.Fatal(stderr)
	}
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": db}[k] }
	chart, saved := filepath.Join(dir, "size.svg"), filepath.Join(dir, "size.json")
	out, stderr, code := runCLI(t, getenv, "size", "--max", "8", "--duration-per-step", "300ms", "--warmup", "100ms",
		"--json", "--chart", chart, "--save", saved, "--plan", planFile)
	// 3 instances × 200 do not fit in the shared test cluster (max_connections 400).
	if code != poolpilot.ExitRefused {
		t.Fatalf("exit %d, want 4 (the plan breaks the budget)\n%s\n%s", code, out, stderr)
	}
	var rep advisor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	var ns []int
	for _, s := range rep.Steps {
		ns = append(ns, s.Concurrency)
		if s.Throughput <= 0 || s.Errors != 0 || s.P95MS <= 0 || s.P50MS > s.P95MS || s.P95MS > s.P99MS {
			t.Errorf("step %+v", s)
		}
	}
	if !slices.Equal(ns, advisor.Ladder(8)[:len(ns)]) || len(ns) < advisor.MinSteps {
		t.Errorf("concurrencies %v, want a prefix of %v with at least %d steps", ns, advisor.Ladder(8), advisor.MinSteps)
	}
	if strings.Count(stderr, "step ") < len(ns) {
		t.Errorf("progress lines missing:\n%s", stderr)
	}
	if rep.USL == nil || rep.USL.Lambda <= 0 || len(rep.Curve) != len(ns) {
		t.Errorf("fit %+v curve %v", rep.USL, rep.Curve)
	}
	r := rep.Recommended
	if r.Refused == (r.Max > 0) || r.Reason == "" || (!r.Refused && !slices.Contains(ns, r.Max)) {
		t.Errorf("recommended %+v", r)
	}
	b := rep.Budget
	if b == nil || b.MaxConnections != 400 || b.Plan == nil || b.Plan.Max != 200 || b.Plan.Instances != 3 || b.Plan.Fits || b.Plan.Needed != 600 {
		t.Fatalf("budget %+v plan %+v", b, b.Plan)
	}
	if !strings.Contains(stderr, "do NOT fit") {
		t.Errorf("stderr does not say why: %s", stderr)
	}
	if svg, err := os.ReadFile(chart); err != nil || !bytes.HasPrefix(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("polyline")) {
		t.Errorf("chart: %v %.80s", err, svg)
	}
	back, err := advisor.LoadReport(saved)
	if err != nil || !reflect.DeepEqual(back.Recommended, rep.Recommended) || len(back.Steps) != len(rep.Steps) {
		t.Errorf("saved report: %v %+v", err, back)
	}
	// The text form has the table, the fit and the verdicts.
	text, _, _ := runCLI(t, getenv, "size", "--max", "4", "--duration-per-step", "150ms", "--warmup", "50ms", "--rounds", "2", "--max-instances", "2", "--surge", "1")
	for _, want := range []string{advisor.StepHeader, "median of 2 rounds", "Universal Scalability Law", "Budget: (2 instances + 1 surge) × max"} {
		if !strings.Contains(text, want) && !(want[:7] == "Budget:" && strings.Contains(text, "No recommendation")) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

// syncBuffer is a stderr that cancels the run once it has seen n progress lines.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(p)
	if strings.Count(s.b.String(), "step ") >= s.n {
		s.cancel()
	}
	return len(p), nil
}

func TestSizeInterruptedPrintsCompletedSteps(t *testing.T) {
	db := pgtest.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{n: 2, cancel: cancel}
	var out bytes.Buffer
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": db}[k] }
	err := run(ctx, []string{"size", "--max", "8", "--duration-per-step", "300ms", "--warmup", "0s", "--json"}, getenv, strings.NewReader(""), &out, stderr)
	if code := poolpilot.ExitCode(err); code != poolpilot.ExitInternal {
		t.Fatalf("exit %d (%v), want 1", code, err)
	}
	var rep advisor.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out.String())
	}
	if !rep.Interrupted || len(rep.Steps) != 2 || rep.Stopped != advisor.StopInterrupted || !rep.Recommended.Refused {
		t.Errorf("interrupted %v, %d steps, stopped %q, recommended %+v", rep.Interrupted, len(rep.Steps), rep.Stopped, rep.Recommended)
	}
}

// Through a transaction pooler the budget is reported, not judged.
func TestSizeBehindAPoolerDoesNotJudgeTheBudget(t *testing.T) {
	direct := pgtest.NewDatabase(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	b := pgbouncertest.New(t, pgbouncertest.Options{UpstreamPort: port, PoolMode: "transaction", PoolSize: 5, MaxClients: 100})
	env := map[string]string{"BOUNCER_URL": b.URL(strings.TrimPrefix(u.Path, "/")), "DB_POOL_POOLER": "transaction"}
	out, stderr, code := runCLI(t, func(k string) string { return env[k] }, "size", "--dsn-env", "BOUNCER_URL",
		"--max", "4", "--duration-per-step", "150ms", "--warmup", "50ms", "--json", "--max-instances", "50")
	if code != 0 && code != poolpilot.ExitFailed {
		t.Fatalf("exit %d\n%s\n%s", code, stderr, b.Logs())
	}
	var rep advisor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if rep.Budget == nil || !rep.Budget.Pooler || rep.Budget.Judged || !strings.Contains(rep.Budget.Message, "pooler") {
		t.Errorf("budget %+v", rep.Budget)
	}
	if len(rep.Steps) != 4 || rep.Steps[3].Throughput <= 0 {
		t.Errorf("steps %+v", rep.Steps)
	}
}
