package dashboard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// serveFixture serves the shared fixture (read-only tests).
func serveFixture(t *testing.T, opts Options) (*Hub, *httptest.Server, string) {
	t.Helper()
	return serveDir(t, sharedFixture(t), opts)
}

func serveDir(t *testing.T, root string, opts Options) (*Hub, *httptest.Server, string) {
	t.Helper()
	opts.EvidenceDir = root
	opts.Secrets = append(opts.Secrets, evidencetest.AdminToken, evidencetest.DBPassword)
	h, err := NewHub(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(func() { srv.Close(); h.Close() })
	return h, srv, root
}

func TestListAndFinishedRunPages(t *testing.T) {
	_, srv, _ := serveFixture(t, Options{})
	code, hdr, body := get(t, srv.URL+"/")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{evidencetest.RunID, succeededID, "rolled-back", "succeeded", "✓ verifies"} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	if strings.Index(body, succeededID) > strings.Index(body, evidencetest.RunID) {
		t.Error("list is not newest first")
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	code, _, body = get(t, srv.URL+"/runs/"+evidencetest.RunID)
	if code != 200 {
		t.Fatalf("run page: %d", code)
	}
	for _, want := range []string{"rolled-back", `aria-current="step"`, "<svg", "Latency p95", "Pool utilization",
		"evidence verifies", "/runs/" + evidencetest.RunID + "/files/sustained_monitoring.json", "/runs/" + evidencetest.RunID + "/report",
		"max 10 / min 2", "max 200 / min 20", "Manual rollback is off"} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="rb-form"`) {
		t.Error("the rollback form is shown without a token")
	}
	code, _, body = get(t, srv.URL+"/api/runs/"+evidencetest.RunID)
	var v View
	if code != 200 || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("api: %d %s", code, body)
	}
	if v.State != "rolled-back" || !v.Terminal || v.Live || v.Verify == nil || !v.Verify.OK || len(v.Samples) == 0 || len(v.Criteria) == 0 || len(v.Timeline) == 0 {
		t.Errorf("api view: state %s terminal %v live %v verify %+v samples %d criteria %d timeline %d",
			v.State, v.Terminal, v.Live, v.Verify, len(v.Samples), len(v.Criteria), len(v.Timeline))
	}
	if v.Rollback.Enabled {
		t.Error("rollback enabled for a finished run")
	}
	code, _, body = get(t, srv.URL+"/api/runs")
	var list []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 2 {
		t.Errorf("api list: %d %s", code, body)
	}
}

func TestReportAndFiles(t *testing.T) {
	_, srv, root := serveDir(t, fixtureDir(t), Options{}) // it plants files
	code, hdr, body := get(t, srv.URL+"/runs/"+succeededID+"/report")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(body, "succeeded") {
		t.Fatalf("report: %d %s", code, hdr.Get("Content-Type"))
	}
	code, hdr, body = get(t, srv.URL+"/runs/"+succeededID+"/files/sustained_monitoring.json")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || !strings.Contains(body, `"samples"`) {
		t.Fatalf("file: %d %s", code, hdr.Get("Content-Type"))
	}
	code, _, body = get(t, srv.URL+"/runs/"+succeededID+"/files/audit.jsonl")
	if code != 200 || !strings.Contains(body, `"run_opened"`) {
		t.Fatalf("audit.jsonl: %d", code)
	}
	// Plant a file outside the run folder and a symlink to it inside.
	outside := filepath.Join(root, "outside-secret.txt")
	if err := os.WriteFile(outside, []byte("root:x:0:0 OUTSIDE"), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(root, "other_plan", succeededID)
	if err := os.Symlink(outside, filepath.Join(runDir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(runDir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"/runs/" + succeededID + "/files/..%2Foutside-secret.txt",
		"/runs/" + succeededID + "/files/..%2F..%2Foutside-secret.txt",
		"/runs/" + succeededID + "/files/%2e%2e%2f%2e%2e%2foutside-secret.txt",
		"/runs/" + succeededID + "/files/../../outside-secret.txt",
		"/runs/" + succeededID + "/files/..",
		"/runs/" + succeededID + "/files/.hidden",
		"/runs/" + succeededID + "/files/link.txt",
		"/runs/" + succeededID + "/files/subdir",
		"/runs/" + succeededID + "/files/nope.json",
		"/runs/" + succeededID + "/files/%00",
	} {
		code, _, body := getNoRedirect(t, srv.URL+p)
		if code == 200 || strings.Contains(body, "OUTSIDE") {
			t.Errorf("%s: %d %.200q", p, code, body)
		}
		if code != 404 && code != 400 && !(code >= 300 && code < 400) {
			t.Errorf("%s: status %d, want 404 or 400", p, code)
		}
	}
}

func TestUnknownRunIs404(t *testing.T) {
	_, srv, _ := serveFixture(t, Options{Token: testToken})
	for _, p := range []string{"/runs/nope", "/api/runs/nope", "/api/runs/nope/events", "/runs/nope/report",
		"/runs/nope/files/audit.jsonl", "/runs/..%2F..%2Fetc", "/api/runs/.hidden", "/assets/nope.css", "/assets/page.html", "/nope"} {
		if code, _, _ := get(t, srv.URL+p); code != 404 {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}
	code, _, body := do(t, "POST", srv.URL+"/api/runs/nope/rollback", `{"reason":"x"}`,
		"Authorization", "Bearer "+testToken, "Content-Type", "application/json")
	if code != 404 || !strings.Contains(body, "no run") {
		t.Errorf("rollback of an unknown run: %d %s", code, body)
	}
}

func TestWrongMethodsAre405(t *testing.T) {
	_, srv, _ := serveFixture(t, Options{Token: testToken})
	for _, c := range [][2]string{
		{"POST", "/runs/" + evidencetest.RunID},
		{"DELETE", "/api/runs/" + evidencetest.RunID},
		{"PUT", "/api/runs/" + evidencetest.RunID + "/rollback"},
		{"GET", "/api/runs/" + evidencetest.RunID + "/rollback"},
		{"POST", "/api/runs/" + evidencetest.RunID + "/events"},
		{"POST", "/"},
		{"POST", "/runs/" + evidencetest.RunID + "/files/audit.jsonl"},
	} {
		code, hdr, _ := do(t, c[0], srv.URL+c[1], "")
		if code != http.StatusMethodNotAllowed || hdr.Get("Allow") == "" {
			t.Errorf("%s %s: %d (Allow %q), want 405", c[0], c[1], code, hdr.Get("Allow"))
		}
	}
}

func TestAssetsAreEmbeddedAndLocal(t *testing.T) {
	_, srv, _ := serveFixture(t, Options{})
	for name, ct := range map[string]string{"style.css": "text/css", "app.js": "text/javascript", "favicon.svg": "image/svg+xml"} {
		code, hdr, body := get(t, srv.URL+"/assets/"+name)
		if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), ct) || len(body) == 0 {
			t.Errorf("%s: %d %s", name, code, hdr.Get("Content-Type"))
		}
		if strings.Contains(strings.ReplaceAll(body, `xmlns="http://www.w3.org/2000/svg"`, ""), "http") {
			t.Errorf("%s refers to an external URL", name)
		}
	}
	_, _, page := get(t, srv.URL+"/runs/"+evidencetest.RunID)
	for _, bad := range []string{"https://", "http://", "<script>", " style=", " onclick="} {
		if strings.Contains(page, bad) && bad != "http://" {
			t.Errorf("page has %q", bad)
		}
	}
	if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), "http") {
		t.Error("page refers to an external URL")
	}
}
