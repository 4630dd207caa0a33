package runner

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan/plantest"
)

// receiver is a local HTTP server keeping every JSON body posted to it.
type receiver struct {
	mu     sync.Mutex
	bodies []map[string]any
	url    string
}

func newReceiver(t *testing.T, path string) *receiver {
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("%s: %v", r.URL.Path, err)
		}
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, m)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL + path
	return rc
}

func (rc *receiver) got() []map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]map[string]any(nil), rc.bodies...)
}

// pagingRunner is a runner with a real evidence folder and the plan's
// notify section pointing at local receivers.
func pagingRunner(t *testing.T, env map[string]string, dir string, resume bool) *runner {
	t.Helper()
	p := plantest.Seed(t)
	p.Notify.PagerDutyRoutingKeyEnv, p.Notify.PagerDutyURL, p.Notify.EventsWebhookEnv = "PD_KEY", env["PD_URL"], "EVENTS_URL"
	r := &runner{o: Options{Run: &assemble.Run{Getenv: func(k string) string { return env[k] }}, Log: io.Discard}, p: p, clock: fixedClock{}}
	secrets := r.setupPaging()
	opts := evidence.Options{Plan: p.Name, Secrets: secrets, OnAppend: r.eventHook()}
	var err error
	if resume {
		r.folder, err = evidence.Resume(dir, opts)
	} else {
		r.folder, err = evidence.Open(dir, opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	r.dir = r.folder.Dir()
	return r
}

type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC) }

// TestPagingTriggersAndResolvesOncePerRun drives the notifications the
// controller sends through a run that crashes after a P0 incident and is
// resumed (--resume) to a finished rollback: a P1 incident does not page,
// the P0 triggers the run's page, the resumed process's rolled_back
// resolves it with the same dedup key (once); the events webhook gets one
// poolpilot.event/1 body per audit line of both processes.
func TestPagingTriggersAndResolvesOncePerRun(t *testing.T) {
	pd := newReceiver(t, "/v2/enqueue")
	ev := newReceiver(t, "/events/hook-secret")
	env := map[string]string{"PD_KEY": "pd-routing-key-secret", "PD_URL": pd.url, "EVENTS_URL": ev.url}
	ctx := context.Background()
	r := pagingRunner(t, env, t.TempDir(), false)
	r.event(evidence.Incident{Class: "P1", Name: "latency_p95"})
	r.notify(ctx, "incident", "plan x: P1 incident: latency")
	r.event(evidence.Incident{Class: "P0", Name: "error_rate"})
	r.notify(ctx, "incident", "plan x: P0 incident: error rate 50%")
	dir := r.dir
	r.stopEvents() // the process dies here: the folder is not closed

	r2 := pagingRunner(t, env, dir, true)
	r2.notify(ctx, "rolled_back", "plan x rolled back to 10:2")
	r2.notify(ctx, "success", "a second recovery does not resolve twice")
	if _, err := r2.folder.Close(); err != nil {
		t.Fatal(err)
	}
	r2.stopEvents()

	pages := pd.got()
	want := []struct{ action, class string }{{"trigger", "P0"}, {"resolve", ""}}
	if len(pages) != len(want) {
		t.Fatalf("%d PagerDuty events, want %d: %v", len(pages), len(want), pages)
	}
	key := "poolpilot/" + r.p.Name + "/" + filepath.Base(dir)
	for i, w := range want {
		m := pages[i]
		if m["routing_key"] != "pd-routing-key-secret" || m["event_action"] != w.action || m["dedup_key"] != key {
			t.Errorf("page %d: %v", i, m)
		}
		p, _ := m["payload"].(map[string]any)
		if w.action == "trigger" && (p["severity"] != "critical" || p["class"] != w.class || p["source"] != "poolpilot/"+r.p.Name ||
			!strings.HasPrefix(p["summary"].(string), "poolpilot: ")) {
			t.Errorf("page %d payload: %v", i, p)
		}
	}
	audit, err := os.ReadFile(filepath.Join(dir, evidence.FileAudit))
	if err != nil {
		t.Fatal(err)
	}
	var lines []evidence.Line
	for _, rl := range evidence.ReadAuditLines(audit) {
		lines = append(lines, rl.Line)
	}
	events := ev.got()
	if len(events) != len(lines) {
		t.Fatalf("%d events for %d audit lines", len(events), len(lines))
	}
	for i, l := range lines {
		e := events[i]
		if e["schema"] != "poolpilot.event/1" || e["kind"] != l.Event || e["run_id"] != filepath.Base(dir) ||
			e["plan"] != r.p.Name || e["seq"] != float64(l.Seq) || e["hash"] != l.Hash {
			t.Errorf("event %d %v for line %s #%d", i, e, l.Event, l.Seq)
		}
		if _, ok := e["data"].(map[string]any); !ok {
			t.Errorf("event %d data %v", i, e["data"])
		}
	}
	paged := 0
	for _, l := range lines {
		if l.Event == evidence.EventPaged {
			paged++
		}
	}
	if paged != 2 {
		t.Errorf("%d paged audit events, want 2", paged)
	}
	for _, s := range []string{"pd-routing-key-secret", "hook-secret"} {
		if strings.Contains(string(audit), s) {
			t.Errorf("audit holds %q", s)
		}
	}
}

// TestRollbackFailedPages: a failed rollback triggers a critical page; the
// run ends there (rollback-failed is terminal), so nothing resolves it.
func TestRollbackFailedPages(t *testing.T) {
	pd := newReceiver(t, "/v2/enqueue")
	r := pagingRunner(t, map[string]string{"PD_KEY": "routing-key-0001", "PD_URL": pd.url}, t.TempDir(), false)
	r.notify(context.Background(), "rollback_failed", "PAGE: plan x ROLLBACK FAILED: instance-1 refused")
	r.folder.Close()
	pages := pd.got()
	if len(pages) != 1 || pages[0]["event_action"] != "trigger" {
		t.Fatalf("pages %v", pages)
	}
	p, _ := pages[0]["payload"].(map[string]any)
	if p["class"] != "rollback_failed" || p["severity"] != "critical" || !strings.Contains(p["summary"].(string), "ROLLBACK FAILED") {
		t.Errorf("payload %v", p)
	}
}

// TestPageFailureIsRecorded: PagerDuty down is a page_failed audit event.
func TestPageFailureIsRecorded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	env := map[string]string{"PD_KEY": "k-secret", "PD_URL": srv.URL + "/v2/enqueue"}
	r := pagingRunner(t, env, t.TempDir(), false)
	r.notify(context.Background(), "rollback_failed", "PAGE: rollback failed")
	var found bool
	for _, l := range r.folder.Lines() {
		if l.Event == evidence.EventPageFailed && strings.Contains(string(l.Data), "503") && !strings.Contains(string(l.Data), "k-secret") {
			found = true
		}
	}
	if !found {
		t.Errorf("no page_failed event: %v", r.folder.Lines())
	}
	r.folder.Close()
}
