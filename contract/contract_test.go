package contract

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/httpapi"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/source/health"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

const token = "contract-test-token"

// realService is httpapi over a real pgpool on a private PostgreSQL, with
// one application route behind the request middleware.
func realService(t *testing.T, dbURL string) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := pgpool.Config{PoolConfig: pgpool.DefaultPoolConfig(), DatabaseURL: dbURL}
	cfg.Max, cfg.Min = 6, 1
	pool, err := pgpool.Open(ctx, cfg, pgpool.Options{AppName: "contract-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	api := httpapi.New(httpapi.Options{Pool: pool, Service: "contract-test", AdminToken: token, PingCacheTTL: 100 * time.Millisecond})
	mux := http.NewServeMux()
	mux.Handle("/", api.Handler())
	mux.Handle("/work", api.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := pool.Exec(r.Context(), "SELECT 1"); err != nil {
			http.Error(w, "db", http.StatusInternalServerError)
		}
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for range 5 {
		get(t, srv.URL+"/work")
	}
	return srv
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func put(t *testing.T, url, tok, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The reference implementation's documents follow the contract: a 200
// "ok" document, then — the database stopped — a 503 "unavailable" one.
func TestRealHealthDocumentsValidate(t *testing.T) {
	pg := pgtest.New(t, pgtest.Options{})
	srv := realService(t, pg.URL("postgres"))
	code, b := get(t, srv.URL+"/healthz")
	if code != 200 {
		t.Fatalf("HTTP %d: %s", code, b)
	}
	if err := Health().Validate(b); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	d, err := health.ParseDocument(b)
	if err != nil || d.Schema != Version || d.Requests.Total < 5 {
		t.Fatalf("document %+v: %v", d.Health, err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for code == 200 && time.Now().Before(deadline) {
		code, b = get(t, srv.URL+"/healthz")
	}
	if code != 503 {
		t.Fatalf("database stopped: HTTP %d, want 503", code)
	}
	if err := Health().Validate(b); err != nil {
		t.Fatalf("503 document: %v\n%s", err, b)
	}
}

// PUT /admin/pool: what the schema refuses the service refuses (400), and
// every answer follows the contract.
func TestRealResizeAnswersValidate(t *testing.T) {
	srv := realService(t, pgtest.NewDatabase(t))
	admin := srv.URL + "/admin/pool"
	code, b := put(t, admin, token, `{"max":8,"min":2}`)
	if code != 200 {
		t.Fatalf("resize: HTTP %d %s", code, b)
	}
	if err := ResizeRequest().Validate([]byte(`{"max":8,"min":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := ResizeAnswer().Validate(b); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	for _, body := range []string{`{"max":"10"}`, `{}`, `{"maxx":1}`, `{"max":0}`, `[]`} {
		if err := ResizeRequest().Validate([]byte(body)); err == nil {
			t.Errorf("schema accepts %s", body)
		}
		code, b := put(t, admin, token, body)
		if code != 400 {
			t.Errorf("%s: HTTP %d, want 400", body, code)
		}
		if err := AdminError().Validate(b); err != nil {
			t.Errorf("%s: answer %v", body, err)
		}
	}
	for _, c := range []struct {
		tok    string
		method string
		want   int
	}{{"", http.MethodPut, 401}, {"wrong", http.MethodPut, 401}, {token, http.MethodPost, 405}} {
		req, _ := http.NewRequest(c.method, admin, strings.NewReader(`{"max":8}`))
		req.Header.Set("Authorization", "Bearer "+c.tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || AdminError().Validate(b) != nil {
			t.Errorf("%s token %q: HTTP %d %s, want %d and an error object", c.method, c.tok, resp.StatusCode, b, c.want)
		}
	}
}

// metricTypes reads the "# TYPE name type" lines of a /metrics answer.
func metricTypes(text string) map[string]string {
	out := map[string]string{}
	for line := range strings.SplitSeq(text, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			out[f[2]] = f[3]
		}
	}
	return out
}

// The names and types of /metrics match metrics.json both ways (the Go
// runtime's go_* and process_* families aside).
func TestRealMetricsMatch(t *testing.T) {
	srv := realService(t, pgtest.NewDatabase(t))
	code, b := get(t, srv.URL+"/metrics")
	if code != 200 {
		t.Fatalf("HTTP %d", code)
	}
	served := metricTypes(string(b))
	m, err := Metrics()
	if err != nil {
		t.Fatal(err)
	}
	if m.Schema != Version {
		t.Errorf("metrics.json schema %q, want %q", m.Schema, Version)
	}
	listed := map[string]bool{}
	for _, x := range m.Metrics {
		listed[x.Name] = true
		if typ, ok := served[x.Name]; !ok {
			t.Errorf("metrics.json lists %s, /metrics does not serve it", x.Name)
		} else if typ != x.Type {
			t.Errorf("%s: served as %s, metrics.json says %s", x.Name, typ, x.Type)
		}
		if x.Unit == "" || x.Help == "" {
			t.Errorf("%s: no unit or help", x.Name)
		}
	}
	for name := range served {
		if !listed[name] && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("/metrics serves %s, metrics.json does not list it", name)
		}
	}
}

// A misnamed field is named by the validator.
func TestMisnamedFieldIsNamed(t *testing.T) {
	doc := `{"schema":"1.0","status":"ok","pool":{"max":10,"min":2,"total":2,"acquired":0,"idle":2,"waiting":0,"utilization":0,"wait_p50_ms":0,"wait_p95_ms":0,"wait_p99_ms":0,"acquires":1,"acquire_timeouts":0,"opened":2,"closed":0},
	  "requests":{"total":1,"errors":0,"errorRate":0,"latency_p50_ms":1,"latency_p95_ms":1,"latency_p99_ms":1,"window_seconds":60}}`
	err := Health().Validate([]byte(doc))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.Contains(ve.Problems[0], "requests: missing property 'error_rate'") {
		t.Fatalf("error %v", err)
	}
	if err := Health().Validate([]byte(strings.Replace(doc, `"1.0"`, `"2.0"`, 1))); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("schema 2.0 accepted: %v", err)
	}
}

// The schema's annotations agree with the code: every field a health
// metric is computed from is a property whose x-poolpilot-metrics names
// the metric, and every x-poolpilot-criteria names a default criterion.
func TestSchemaAnnotationsMatchTheSource(t *testing.T) {
	b, _ := File(FileHealth)
	var s struct {
		Version    string `json:"x-poolpilot-schema-version"`
		Properties map[string]struct {
			Properties map[string]struct {
				Metrics  []string `json:"x-poolpilot-metrics"`
				Criteria []string `json:"x-poolpilot-criteria"`
			} `json:"properties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Version != poolpilot.HealthSchema {
		t.Errorf("schema version %q, code writes %q", s.Version, poolpilot.HealthSchema)
	}
	var defaults []string
	for _, c := range criteria.SeedDefaults(criteria.SeedTargets{}) {
		defaults = append(defaults, c.Name)
	}
	for _, mi := range criteria.Vocabulary() {
		fields, ok := health.MetricFields(mi.Name)
		if mi.Source != criteria.SourceHealth || !ok {
			continue
		}
		for _, f := range fields {
			obj, name, _ := strings.Cut(f, ".")
			p, ok := s.Properties[obj].Properties[name]
			if !ok {
				t.Errorf("metric %s needs %s: not in the schema", mi.Name, f)
			} else if !slices.Contains(p.Metrics, mi.Name) {
				t.Errorf("%s: x-poolpilot-metrics %v does not name %s", f, p.Metrics, mi.Name)
			}
		}
	}
	for obj, o := range s.Properties {
		for name, p := range o.Properties {
			for _, c := range p.Criteria {
				if !slices.Contains(defaults, c) {
					t.Errorf("%s.%s: x-poolpilot-criteria names %s, not a default criterion", obj, name, c)
				}
			}
		}
	}
}

// docs/contract.md names every field and metric family of the contract,
// and its example document validates.
func TestDocsFollowTheContract(t *testing.T) {
	b, err := os.ReadFile("../docs/contract.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	hb, _ := File(FileHealth)
	var s struct {
		Properties map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(hb, &s); err != nil {
		t.Fatal(err)
	}
	for k, o := range s.Properties {
		if !strings.Contains(doc, "| `"+k+"` |") {
			t.Errorf("docs/contract.md has no row for %s", k)
		}
		for ik := range o.Properties {
			if !strings.Contains(doc, "| `"+k+"."+ik+"` |") {
				t.Errorf("docs/contract.md has no row for %s.%s", k, ik)
			}
		}
	}
	m, _ := Metrics()
	for _, x := range m.Metrics {
		if !strings.Contains(doc, "| `"+x.Name+"` |") {
			t.Errorf("docs/contract.md has no row for metric %s", x.Name)
		}
	}
	_, rest, _ := strings.Cut(doc, "```json\n")
	example, _, _ := strings.Cut(rest, "```")
	if err := Health().Validate([]byte(example)); err != nil {
		t.Errorf("the example document: %v", err)
	}
}
