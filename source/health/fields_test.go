package health

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A service that names its fields differently (errorRate, latencyP95Ms)
// and omits pool.wait_*: the metrics it does not carry are gaps naming the
// field, never 0 — while its 30 % errors, under its own names, would have
// read as a healthy 0.
func TestAbsentFieldsAreGapsNamingTheField(t *testing.T) {
	body := `{"status":"ok","pool":{"max":10,"min":2,"total":3,"acquired":1,"idle":2,"utilization":0.1,"acquires":50,"opened":3},
	  "requests":{"total":600,"errors":180,"errorRate":0.3,"latencyP95Ms":4000,"window_seconds":60}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
	defer srv.Close()
	src, err := New([]string{srv.URL + "/healthz"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, src)
	for m, field := range map[string]string{
		"error_rate": "requests.error_rate", "latency_p95_ms": "requests.latency_p95_ms",
		"pool.wait_p95_ms": "pool.wait_p95_ms", "pool.waiting": "pool.waiting", "pool.churn": "pool.churn",
	} {
		s := got[m]
		want := "field " + field + " absent from the health document"
		if !s.Gap || s.Reason != want || s.Value != 0 {
			t.Errorf("%s: %+v, want a gap %q", m, s, want)
		}
	}
	for m, v := range map[string]float64{"requests": 10, "pool.max": 10, "pool.utilization": 0.1, "reachable": 1} {
		if s := got[m]; s.Gap || s.Value != v {
			t.Errorf("%s: %+v, want %v", m, s, v)
		}
	}
}

func TestNoRequestsObjectNamesTheFields(t *testing.T) {
	d, err := ParseDocument([]byte(`{"status":"ok","pool":{"max":10,"min":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Schema != "1.0" {
		t.Errorf("absent schema read as %q, want 1.0", d.Schema)
	}
	if got := AbsentReason(d.Missing("requests")); got != "fields requests.total, requests.window_seconds absent from the health document" {
		t.Errorf("reason %q", got)
	}
	if d.Missing("reachable") != nil || d.Missing("pool.max") != nil {
		t.Errorf("reachable/pool.max need nothing more: %v %v", d.Missing("reachable"), d.Missing("pool.max"))
	}
}

func TestSchemaVersion(t *testing.T) {
	doc := func(v string) []byte { return []byte(`{"schema":` + v + `,"status":"ok","pool":{"max":10,"min":2}}`) }
	for _, v := range []string{`"1.0"`, `"1.7"`} {
		if d, err := ParseDocument(doc(v)); err != nil || !d.Has("schema") {
			t.Errorf("schema %s refused: %v", v, err)
		}
	}
	for v, want := range map[string]string{
		`"2.0"`: "health document schema 2.0: this poolpilot reads 1.x",
		`"0.9"`: "health document schema 0.9: this poolpilot reads 1.x",
		`"1"`:   `health document schema "1": want a version MAJOR.MINOR`,
		`1.0`:   "health document",
	} {
		_, err := ParseDocument(doc(v))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("schema %s: error %v, want %q", v, err, want)
		}
	}
}
