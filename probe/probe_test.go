package probe

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeService serves a health document built from its state, and PUT
// /admin/pool that answers 200 but, when ignore is set, does not resize.
type fakeService struct {
	mu                  sync.Mutex
	max, min, total     int
	acquires            int
	util                float64
	ignore, noSchemaKey bool
	puts                []string
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/healthz":
		f.acquires++
		schema := `"schema":"1.0",`
		if f.noSchemaKey {
			schema = ""
		}
		fmt.Fprintf(w, `{%s"status":"ok","service":"fake","pool":{"max":%d,"min":%d,"total":%d,"acquired":1,"idle":0,"waiting":0,"utilization":%v,"wait_p50_ms":0,"wait_p95_ms":0,"wait_p99_ms":0,"acquires":%d,"acquire_timeouts":0,"opened":2,"closed":0},
		  "requests":{"total":%d,"errors":0,"error_rate":0,"latency_p50_ms":1,"latency_p95_ms":2,"latency_p99_ms":3,"window_seconds":60}}`,
			schema, f.max, f.min, f.total, f.util, f.acquires, f.acquires)
	case "/admin/pool":
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"unauthorized"}`)
			return
		}
		var body strings.Builder
		buf := make([]byte, 512)
		n, _ := r.Body.Read(buf)
		body.Write(buf[:n])
		f.puts = append(f.puts, body.String())
		var max, min int
		fmt.Sscanf(strings.NewReplacer(`{"max":`, "", `,"min":`, " ", "}", "").Replace(body.String()), "%d %d", &max, &min)
		if !f.ignore {
			f.max, f.min = max, min
		}
		fmt.Fprintf(w, `{"max":%d,"min":%d}`, max, min)
	default:
		http.NotFound(w, r)
	}
}

func run(t *testing.T, f *fakeService, o Options) Report {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	o.URL = srv.URL + "/healthz"
	if o.AdminURL == "admin" {
		o.AdminURL, o.Token = srv.URL+"/admin/pool", "tok"
	}
	o.Polls, o.Interval, o.ResizeTimeout = 3, time.Millisecond, 300*time.Millisecond
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func status(rep Report) map[string]Check {
	out := map[string]Check{}
	for _, c := range rep.Checks {
		out[c.ID] = c
	}
	return out
}

func TestConformantFakeResizesUpAndBack(t *testing.T) {
	f := &fakeService{max: 10, min: 2, total: 2, util: 0.1}
	rep := run(t, f, Options{AdminURL: "admin"})
	if !rep.Conformant {
		t.Fatalf("problems: %v", rep.Problems)
	}
	if len(f.puts) != 2 || f.puts[0] != `{"max":11,"min":2}` || f.puts[1] != `{"max":10,"min":2}` {
		t.Errorf("PUTs %v", f.puts)
	}
}

func TestResizeTheDocumentDoesNotFollow(t *testing.T) {
	f := &fakeService{max: 10, min: 2, total: 2, util: 0.1, ignore: true}
	rep := run(t, f, Options{AdminURL: "admin"})
	c := status(rep)["resize"]
	if rep.Conformant || c.Status != Fail || !strings.Contains(c.Detail, "/healthz did not show max 11 min 2 within 300ms (last: pool max 10 min 2)") {
		t.Fatalf("resize %+v", c)
	}
}

func TestInconsistentFiguresAndNoSchemaAreNamed(t *testing.T) {
	f := &fakeService{max: 10, min: 5, total: 12, util: 0.1, noSchemaKey: true}
	rep := run(t, f, Options{})
	st := status(rep)
	if c := st["figures_consistent"]; c.Status != Fail || !strings.Contains(c.Detail, "pool.total 12 > pool.max 10") {
		t.Errorf("figures_consistent %+v", c)
	}
	if c := st["schema_version"]; c.Status != Fail || !strings.Contains(c.Detail, `add "schema": "1.0"`) {
		t.Errorf("schema_version %+v", c)
	}
	if c := st["schema_valid"]; c.Status != Fail || !strings.Contains(c.Detail, "document: missing property 'schema'") {
		t.Errorf("schema_valid %+v", c)
	}
	if c := st["resize"]; c.Status != Skip {
		t.Errorf("resize without --admin-url %+v", c)
	}
	f2 := &fakeService{max: 10, min: 5, total: 2, util: 0.1}
	if c := status(run(t, f2, Options{}))["figures_consistent"]; c.Status != Fail || !strings.Contains(c.Detail, "pool.total 2 < pool.min 5") {
		t.Errorf("total below min %+v", c)
	}
}

func TestWrongTokenIsNamed(t *testing.T) {
	f := &fakeService{max: 10, min: 2, total: 2, util: 0.1}
	srv := httptest.NewServer(f)
	defer srv.Close()
	rep, err := Run(context.Background(), Options{URL: srv.URL + "/healthz", AdminURL: srv.URL + "/admin/pool", Token: "wrong", Polls: 2, Interval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if c := status(rep)["resize"]; c.Status != Fail || !strings.Contains(c.Detail, "HTTP 401") || strings.Contains(c.Detail, "wrong") {
		t.Errorf("resize %+v", c)
	}
}

// A 200 whose body is not a health document shows no status and no
// figures: those checks are not passed, and the document's problems are named.
func TestUnreadableDocumentPassesNothing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>hello</html>")
	}))
	defer srv.Close()
	rep, err := Run(context.Background(), Options{URL: srv.URL + "/healthz", Polls: 2, Interval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st := status(rep)
	if rep.Conformant || st["schema_valid"].Status != Fail || st["schema_version"].Status != Fail {
		t.Errorf("conformant %v, checks %+v", rep.Conformant, rep.Checks)
	}
	for _, id := range []string{"status", "figures_consistent"} {
		if c := st[id]; c.Status != Skip {
			t.Errorf("%s %+v: nothing was read, want skip", id, c)
		}
	}
}

// A URL that answers 404 (the wrong path) or 500 is reachable: the probe
// reports it not conformant and names the status, instead of "unreachable".
func TestWrongStatusIsNotConformant(t *testing.T) {
	for _, code := range []int{http.StatusNotFound, http.StatusInternalServerError} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "nope", code)
		}))
		rep, err := Run(context.Background(), Options{URL: srv.URL + "/healthz", Polls: 2, Interval: time.Millisecond})
		srv.Close()
		if err != nil {
			t.Fatalf("HTTP %d: %v; want a report", code, err)
		}
		st := status(rep)
		if rep.Conformant || st["status"].Status != Fail || !strings.Contains(st["status"].Detail, fmt.Sprintf("HTTP %d", code)) {
			t.Errorf("HTTP %d: conformant %v, status %+v", code, rep.Conformant, st["status"])
		}
		if c := st["figures_consistent"]; c.Status == Pass {
			t.Errorf("HTTP %d: figures %+v passed with nothing read", code, c)
		}
	}
}
