package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// pdServer answers like the Events API v2 (202 Accepted) and hands every
// body it received to the test.
func pdServer(t *testing.T, status int) (*httptest.Server, chan map[string]any) {
	t.Helper()
	got := make(chan map[string]any, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Error(err)
		}
		got <- m
		w.WriteHeader(status)
		w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"x"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestPagerDutyTriggerAndResolvePayloads(t *testing.T) {
	srv, got := pdServer(t, http.StatusAccepted)
	pd := &PagerDuty{RoutingKey: "R0UT1NGKEY00000000000000000000aa", URL: srv.URL + "/v2/enqueue", Name: "PD_KEY"}
	at := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	err := pd.Send(context.Background(), Alert{Action: ActionTrigger, DedupKey: "poolpilot/plan-a/run-1",
		Summary: "plan-a: ROLLBACK FAILED", Source: "poolpilot/plan-a", Severity: SeverityCritical,
		Class: "rollback_failed", Details: map[string]any{"run_id": "run-1"}, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	m := <-got
	if m["routing_key"] != pd.RoutingKey || m["event_action"] != "trigger" || m["dedup_key"] != "poolpilot/plan-a/run-1" {
		t.Errorf("trigger envelope %v", m)
	}
	p, _ := m["payload"].(map[string]any)
	if p["summary"] != "plan-a: ROLLBACK FAILED" || p["source"] != "poolpilot/plan-a" || p["severity"] != "critical" ||
		p["timestamp"] != "2026-12-03T07:00:00Z" || p["class"] != "rollback_failed" {
		t.Errorf("trigger payload %v", p)
	}
	if d, _ := p["custom_details"].(map[string]any); d["run_id"] != "run-1" {
		t.Errorf("custom_details %v", p["custom_details"])
	}
	if err := pd.Send(context.Background(), Alert{Action: ActionResolve, DedupKey: "poolpilot/plan-a/run-1"}); err != nil {
		t.Fatal(err)
	}
	m = <-got
	if m["event_action"] != "resolve" || m["dedup_key"] != "poolpilot/plan-a/run-1" || m["payload"] != nil {
		t.Errorf("resolve %v", m)
	}
}

func TestPagerDutyRefusesIncompleteAlerts(t *testing.T) {
	pd := &PagerDuty{RoutingKey: "k", URL: "http://127.0.0.1:1/v2/enqueue"}
	for name, a := range map[string]Alert{
		"no dedup key": {Action: ActionTrigger, Summary: "s", Source: "x", Severity: SeverityCritical},
		"bad action":   {Action: "acknowledge-all", DedupKey: "d"},
		"bad severity": {Action: ActionTrigger, DedupKey: "d", Summary: "s", Source: "x", Severity: "page"},
		"no summary":   {Action: ActionTrigger, DedupKey: "d", Source: "x", Severity: SeverityCritical},
	} {
		if _, err := pd.Event(a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPagerDutyErrorsHideTheRoutingKey: PagerDuty echoes a bad key in its
// 400 answer; the error shows the status, not the key.
func TestPagerDutyErrorsHideTheRoutingKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev PagerDutyEvent
		json.NewDecoder(r.Body).Decode(&ev)
		http.Error(w, `{"status":"invalid event","errors":["routing_key `+ev.RoutingKey+` is invalid"]}`, http.StatusBadRequest)
	}))
	defer srv.Close()
	pd := &PagerDuty{RoutingKey: "secret-routing-key-123", URL: srv.URL + "/v2/enqueue", Name: "PD_KEY"}
	err := pd.Send(context.Background(), Alert{Action: ActionResolve, DedupKey: "d"})
	if err == nil || strings.Contains(err.Error(), "secret-routing-key-123") || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "PD_KEY") {
		t.Fatalf("error %v", err)
	}
}
