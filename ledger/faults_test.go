package ledger_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/ledger"
)

func newFaulty(t *testing.T, seed uint64) (*httptest.Server, *ledger.Faults) {
	t.Helper()
	f := ledger.NewFaults(seed, nil)
	mux := http.NewServeMux()
	mux.Handle("/v1/", f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ledger.WriteJSON(w, 200, map[string]bool{"served": true})
	})))
	mux.Handle("/admin/faults", f.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, f
}

func TestFaultsErrorRate(t *testing.T) {
	srv, f := newFaulty(t, 42)
	if status, m := do(t, "PUT", srv.URL+"/admin/faults", `{"error_rate":1,"extra_latency_ms":0}`); status != 200 || m["active"] != true {
		t.Fatalf("put: %d %v", status, m)
	}
	resp, err := http.Get(srv.URL + "/v1/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("X-Ledgerd-Fault") != "injected" {
		t.Fatalf("rate 1: %d %v", resp.StatusCode, resp.Header)
	}
	if err := f.Set(ledger.FaultSettings{ErrorRate: 0.3}); err != nil {
		t.Fatal(err)
	}
	failed := 0
	const n = 400
	for range n {
		if status, _ := do(t, "GET", srv.URL+"/v1/x", ""); status == 500 {
			failed++
		}
	}
	if failed < n*20/100 || failed > n*40/100 {
		t.Fatalf("rate 0.3: %d of %d failed", failed, n)
	}
	if status, m := do(t, "PUT", srv.URL+"/admin/faults", `{"error_rate":0,"extra_latency_ms":0}`); status != 200 || m["active"] != false ||
		m["injected_errors"].(float64) != float64(failed+1) {
		t.Fatalf("clear: %d %v (want injected_errors %d)", status, m, failed+1)
	}
	for range 50 {
		if status, _ := do(t, "GET", srv.URL+"/v1/x", ""); status != 200 {
			t.Fatalf("after clear: %d", status)
		}
	}
}

func TestFaultsLatency(t *testing.T) {
	srv, _ := newFaulty(t, 1)
	if status, m := do(t, "PUT", srv.URL+"/admin/faults", `{"error_rate":0,"extra_latency_ms":150}`); status != 200 {
		t.Fatalf("put: %d %v", status, m)
	}
	start := time.Now()
	if status, _ := do(t, "GET", srv.URL+"/v1/x", ""); status != 200 {
		t.Fatal(status)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("request took %v, want ≥ 150ms of injected latency", d)
	}
	status, m := do(t, "GET", srv.URL+"/admin/faults", "")
	if status != 200 || m["extra_latency_ms"].(float64) != 150 || m["delayed"].(float64) != 1 || m["in_flight"].(float64) != 0 {
		t.Fatalf("status: %d %v", status, m)
	}
}

func TestFaultsBadSettings(t *testing.T) {
	srv, _ := newFaulty(t, 1)
	for body, want := range map[string]string{
		`{"error_rate":1.5}`:          "error_rate 1.5 is out of range",
		`{"error_rate":-0.1}`:         "error_rate -0.1 is out of range",
		`{"extra_latency_ms":-1}`:     "extra_latency_ms -1 is out of range",
		`{"extra_latency_ms":600000}`: "extra_latency_ms 600000 is out of range",
		`{"extra_latency_ms":1.5}`:    "malformed JSON",
		`{"rate":0.1}`:                `unknown field "rate"`,
		`nope`:                        "malformed JSON",
	} {
		status, m := do(t, "PUT", srv.URL+"/admin/faults", body)
		if msg, _ := m["error"].(string); status != 400 || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %v, want 400 %q", body, status, m, want)
		}
	}
	if status, _ := do(t, "DELETE", srv.URL+"/admin/faults", ""); status != 405 {
		t.Errorf("DELETE: %d, want 405", status)
	}
}

func TestLatencyAboveMaxFollowsThePool(t *testing.T) {
	f := ledger.NewFaults(1, nil)
	max := 20
	f.PoolMax = func() int { return max }
	if err := f.Set(ledger.FaultSettings{ExtraLatencyMS: 1, LatencyAboveMax: 50}); err != nil {
		t.Fatal(err)
	}
	h := f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	serve := func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/accounts", nil)) }
	serve()
	if d := f.Status().Delayed; d != 0 {
		t.Errorf("pool max 20 ≤ 50: %d request(s) delayed, want none", d)
	}
	max = 100
	serve()
	if d := f.Status().Delayed; d != 1 {
		t.Errorf("pool max 100 > 50: %d request(s) delayed, want 1", d)
	}
	if err := f.Set(ledger.FaultSettings{LatencyAboveMax: -1}); err == nil || !strings.Contains(err.Error(), "latency_above_max") {
		t.Errorf("negative latency_above_max: %v", err)
	}
}
