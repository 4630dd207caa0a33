package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEventSinkPostsOneTypedPayloadPerEventInOrder(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer srv.Close()
	s := NewEventSink(srv.URL+"/hook/secret", "EVENTS_URL", nil, func(err error) { t.Error(err) })
	at := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	kinds := []string{"run_opened", "state_change", "incident", "run_closed"}
	for i, k := range kinds {
		s.Publish(Event{Kind: k, RunID: "run-1", Plan: "plan-a", Time: at, Seq: uint64(i + 1), Data: json.RawMessage(`{"n":` + string(rune('0'+i)) + `}`)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent, failed, pending := s.Close(ctx)
	if sent != 4 || failed != 0 || pending != 0 {
		t.Fatalf("sent %d failed %d pending %d", sent, failed, pending)
	}
	s.Publish(Event{Kind: "late"}) // after Close: dropped, no panic
	mu.Lock()
	defer mu.Unlock()
	for i, m := range got {
		if m["schema"] != EventSchema || m["kind"] != kinds[i] || m["run_id"] != "run-1" || m["plan"] != "plan-a" ||
			m["time"] != "2026-12-03T07:00:00Z" || m["seq"] != float64(i+1) {
			t.Errorf("event %d: %v", i, m)
		}
		if d, ok := m["data"].(map[string]any); !ok || d["n"] != float64(i) {
			t.Errorf("event %d data %v", i, m["data"])
		}
	}
}

func TestEventSinkReportsFailuresWithoutTheURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown hook "+r.URL.Path, http.StatusGone)
	}))
	defer srv.Close()
	var mu sync.Mutex
	var errs []error
	s := NewEventSink(srv.URL+"/hook/s3cr3t", "EVENTS_URL", nil, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	s.Publish(Event{Kind: "run_opened"})
	_, failed, _ := s.Close(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if failed != 1 || len(errs) != 1 || strings.Contains(errs[0].Error(), "s3cr3t") || !strings.Contains(errs[0].Error(), "410") {
		t.Fatalf("failed %d errors %v", failed, errs)
	}
}
