package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/runtest"
	"github.com/poolpilot/poolpilot/internal/testutil"
	"github.com/poolpilot/poolpilot/ledger"
)

// jsonSink is a local HTTP server keeping the JSON bodies posted to it.
type jsonSink struct {
	mu     sync.Mutex
	bodies []map[string]any
	url    string
}

func newJSONSink(t *testing.T, path string, status int) *jsonSink {
	s := &jsonSink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		s.mu.Lock()
		s.bodies = append(s.bodies, m)
		s.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL + path
	return s
}

func (s *jsonSink) got() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.bodies...)
}

// TestRunPagesSendsEventsAndExportsMetrics runs a real change with
// PagerDuty, the event webhook and --dashboard: while it soaks, /metrics
// (with the metrics token) holds its state and passes promtool; a P0
// fault (50% errors) fires error_rate, which triggers a page, the rollback
// resolves it with the same dedup key, and the event webhook got one
// poolpilot.event/1 body per audit line, run_closed last.
func TestRunPagesSendsEventsAndExportsMetrics(t *testing.T) {
	f := newAdminFixture(t, "", 60*time.Second, false)
	pd := newJSONSink(t, "/v2/enqueue", http.StatusAccepted)
	ev := newJSONSink(t, "/events/ev-secret-part", http.StatusOK)
	f.P.Notify.PagerDutyRoutingKeyEnv, f.P.Notify.PagerDutyURL, f.P.Notify.EventsWebhookEnv = "PD_KEY", pd.url, "EVENTS_URL"
	f.Write()
	f.Approve()
	metricsToken := "metrics-token-0123456789"
	f.Env["PD_KEY"], f.Env["EVENTS_URL"] = "pd-routing-key-secret-01", ev.url
	f.Env["DASH"], f.Env["DASH_METRICS"] = "dash-token-0123456789ab", metricsToken
	var out, stderr testutil.Buffer
	done := make(chan int, 1)
	go func() {
		err := run(context.Background(), []string{"run", f.PlanFile, "--dashboard", "127.0.0.1:0",
			"--dashboard-token-env", "DASH", "--dashboard-metrics-token-env", "DASH_METRICS"},
			f.Getenv, strings.NewReader(""), &out, &stderr)
		done <- poolpilot.ExitCode(err)
	}()
	url := waitDashURL(&stderr, 20*time.Second)
	if url == "" {
		t.Fatalf("no dashboard URL: %s", stderr.String())
	}
	dir := f.WaitState(change.StateSoak, 40*time.Second)
	id := filepath.Base(dir)
	body := waitMetrics(t, url+"metrics", metricsToken, `poolpilot_run_state{plan="`+f.P.Name+`",run_id="`+id+`",state="soak"} 1`)
	if !strings.Contains(body, "poolpilot_criterion_state{") {
		t.Errorf("/metrics has no criterion states:\n%s", body)
	}
	promtoolCheckMetrics(t, body)

	for _, ld := range f.Ledgerds {
		ld.SetFaults(t, ledger.FaultSettings{ErrorRate: 0.5})
	}
	select {
	case code := <-done:
		if code != poolpilot.ExitFailed {
			t.Fatalf("run: exit %d, want %d\n%s", code, poolpilot.ExitFailed, stderr.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatal("the run did not end")
	}
	key := "poolpilot/" + f.P.Name + "/" + id
	pages := pd.got()
	if len(pages) != 2 || pages[0]["event_action"] != "trigger" || pages[1]["event_action"] != "resolve" ||
		pages[0]["dedup_key"] != key || pages[1]["dedup_key"] != key || pages[0]["routing_key"] != "pd-routing-key-secret-01" {
		t.Fatalf("PagerDuty got %v", pages)
	}
	if p, _ := pages[0]["payload"].(map[string]any); p["class"] != "P0" || p["severity"] != "critical" {
		t.Errorf("trigger payload %v", p)
	}
	b, err := os.ReadFile(filepath.Join(dir, evidence.FileAudit))
	if err != nil {
		t.Fatal(err)
	}
	lines := evidence.ReadAuditLines(b)
	events := ev.got()
	if len(events) != len(lines) || len(events) == 0 {
		t.Fatalf("%d events for %d audit lines", len(events), len(lines))
	}
	for i, l := range lines {
		if e := events[i]; e["schema"] != "poolpilot.event/1" || e["kind"] != l.Line.Event || e["run_id"] != id || e["hash"] != l.Line.Hash {
			t.Errorf("event %d: %v, audit line %s", i, e, l.Line.Event)
		}
	}
	if last := events[len(events)-1]["kind"]; last != evidence.EventRunClosed {
		t.Errorf("last event %v, want run_closed", last)
	}
	if !auditHas(t, dir, "paged") {
		t.Error("the audit log lacks paged")
	}
	runtest.NoSecretIn(t, dir, "pd-routing-key-secret-01", "ev-secret-part", metricsToken)
	if s := out.String() + stderr.String(); strings.Contains(s, "pd-routing-key-secret-01") || strings.Contains(s, "ev-secret-part") || strings.Contains(s, metricsToken) {
		t.Error("a secret was printed")
	}
	mustVerify(t, dir)
}

// waitMetrics polls /metrics with the bearer token until it holds want.
func waitMetrics(t *testing.T, url, token, want string) string {
	t.Helper()
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if res, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			body = string(b)
			if res.StatusCode == http.StatusOK && strings.Contains(body, want+"\n") {
				return body
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never held %s:\n%s", want, body)
		}
	}
}

func promtoolCheckMetrics(t *testing.T, text string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (apt-get install prometheus): %v", err)
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, b)
	}
}
