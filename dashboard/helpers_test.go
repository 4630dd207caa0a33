package dashboard

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/plan/plantest"
)

const (
	testToken   = "dash-token-7f3a9c-planted"
	succeededID = "20260201T030000Z-5ucce5"
	planted     = "pl4nted-secret-9k2"
)

var shared struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// sharedFixture is fixtureDir built once for the tests that only read it.
func sharedFixture(t *testing.T) string {
	t.Helper()
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "dashboard-fixture-"); shared.err == nil {
			buildFixture(t, shared.dir, t.TempDir())
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.dir
}

// fixtureDir builds an evidence dir with a rolled-back run (the fixture's
// run id) and a succeeded one (succeededID).
func fixtureDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	buildFixture(t, root, t.TempDir())
	return root
}

func buildFixture(t *testing.T, root, other string) {
	t.Helper()
	evidencetest.Build(t, root, evidencetest.Rollback)
	src := evidencetest.Build(t, other, evidencetest.Success)
	dst := filepath.Join(root, "other_plan", succeededID)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(src, dst); err != nil {
		t.Fatal(err)
	}
}

// rollbackCalls records the Hub's rollback callback.
type rollbackCalls struct {
	mu    sync.Mutex
	calls [][3]string
}

func (rc *rollbackCalls) fn(dir, by, reason string) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls = append(rc.calls, [3]string{dir, by, reason})
	return nil
}

func (rc *rollbackCalls) get() [][3]string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][3]string(nil), rc.calls...)
}

// fakeHealth is a /healthz that answers from memory, with a secret in
// its error text to prove redaction.
type fakeHealth struct {
	mu   sync.Mutex
	util float64
}

func (f *fakeHealth) set(util float64) { f.mu.Lock(); f.util = util; f.mu.Unlock() }

func (f *fakeHealth) health(ctx context.Context, in plan.Instance) (poolpilot.Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.Name == "down" {
		return poolpilot.Health{}, errors.New("dial http://admin:" + planted + "@10.0.0.9/healthz: connection refused")
	}
	max := 200
	acq := int(f.util * float64(max))
	return poolpilot.Health{Status: "ok", Pool: poolpilot.PoolStats{Max: max, Min: 20, Total: acq + 3, Acquired: acq, Idle: 3,
		Utilization: f.util, WaitP95MS: 1.5, Source: map[string]poolpilot.Provenance{"max": poolpilot.FromAdmin, "min": poolpilot.FromAdmin}},
		Requests: &poolpilot.RequestStats{Total: 1000, Errors: 1, ErrorRate: 0.001, LatencyP95MS: 42}}, nil
}

// liveFixture is a live run fed by hand: a real evidence folder, a plan,
// the Observer.
type liveFixture struct {
	hub    *Hub
	live   *Live
	folder *evidence.Folder
	plan   *plan.Plan
	health *fakeHealth
	calls  *rollbackCalls
	srv    *httptest.Server
}

func testPlan(t *testing.T) *plan.Plan {
	t.Helper()
	o := plan.SeedInitOptions()
	o.Name = "phase1_live"
	o.HealthURLs = []string{"http://127.0.0.1:1/healthz", "http://127.0.0.1:2/healthz"}
	p, _ := plantest.Init(t, o)
	p.Instances[1].Name = "down"
	// A plan refuses credentials in a URL; set one after parsing to prove
	// that the page shows only host:port.
	p.Instances[0].HealthURL = "http://user:" + planted + "@127.0.0.1:1/healthz?token=" + planted
	return p
}

func newLive(t *testing.T, opts Options) *liveFixture {
	t.Helper()
	lf := &liveFixture{health: &fakeHealth{util: 0.2}, calls: &rollbackCalls{}, plan: testPlan(t)}
	opts.Health = lf.health.health
	if opts.Rollback == nil {
		opts.Rollback = lf.calls.fn
	}
	if opts.Interval == 0 {
		opts.Interval = 20 * time.Millisecond
	}
	opts.Secrets = append(opts.Secrets, planted)
	h, err := NewHub(opts)
	if err != nil {
		t.Fatal(err)
	}
	lf.hub = h
	f, err := evidence.Open(t.TempDir(), evidence.Options{Plan: lf.plan.Name})
	if err != nil {
		t.Fatal(err)
	}
	lf.folder = f
	lf.live = h.Live()
	lf.live.Started(lf.plan, f.RunID(), f.Dir())
	lf.srv = httptest.NewServer(h.Handler())
	t.Cleanup(func() { lf.srv.Close(); h.Close() })
	return lf
}

// state journals a state the way the controller does: audit event, then
// the Observer.
func (lf *liveFixture) state(t *testing.T, from, to change.State, reason string) {
	t.Helper()
	if err := lf.folder.Record(change.StateChange(from, change.StateRecord(to, reason))); err != nil {
		t.Fatal(err)
	}
	lf.live.State(to, time.Now())
}

func f64(v float64) *float64 { return &v }

// eval feeds an evaluation with the utilization criterion in state st.
func (lf *liveFixture) eval(st criteria.State, util float64, left float64) {
	lf.live.Evaluation(criteria.Evaluation{Time: time.Now(), Results: []criteria.Result{
		{Name: "pool-utilization", Role: "success", Expr: "pool.utilization < 0.7", State: st, Value: f64(util), Threshold: f64(0.7), LeftS: left, ForS: 10},
		{Name: "error-rate-high", Role: "rollback", Class: "P0", Expr: "error_rate > 0.01", State: criteria.StateOK, Value: f64(0.001), Threshold: f64(0.01), ForS: 300},
	}})
}

func get(t *testing.T, url string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func do(t *testing.T, method, url, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// sseMsg is one server-sent event.
type sseMsg struct{ id, event, data string }

// sseStream reads events from a GET in the background.
type sseStream struct {
	res  *http.Response
	msgs chan sseMsg
	raw  strings.Builder
	mu   sync.Mutex
}

func openSSE(t *testing.T, url, lastID string) *sseStream {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &sseStream{res: res, msgs: make(chan sseMsg, 1000)}
	go func() {
		defer close(s.msgs)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 8<<20)
		var m sseMsg
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.raw.WriteString(line + "\n")
			s.mu.Unlock()
			switch {
			case line == "":
				if m.event != "" {
					s.msgs <- m
				}
				m = sseMsg{}
			case strings.HasPrefix(line, "id: "):
				m.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				m.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				m.data = line[6:]
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *sseStream) close() { s.res.Body.Close() }

func (s *sseStream) text() string { s.mu.Lock(); defer s.mu.Unlock(); return s.raw.String() }

// until reads messages until ok returns true or the deadline passes.
func (s *sseStream) until(t *testing.T, what string, ok func(sseMsg) bool) []sseMsg {
	t.Helper()
	var got []sseMsg
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m, open := <-s.msgs:
			if !open {
				t.Fatalf("stream closed before %s; got %d messages", what, len(got))
			}
			got = append(got, m)
			if ok(m) {
				return got
			}
		case <-deadline:
			t.Fatalf("no %s within 5s; got %d messages", what, len(got))
		}
	}
}

func getNoRedirect(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}
