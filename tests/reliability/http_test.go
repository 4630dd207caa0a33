package reliability

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/httpapi"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/ledger/service"
)

const plantedToken = "tok-RELIABILITY-7f3a9c1e5b"

type httpCase struct {
	name, method, path, auth, body string
	header                         map[string]string
	status                         int
	want                           string // substring of the body
}

var client = &http.Client{Timeout: 10 * time.Second}

func do(t *testing.T, base string, c httpCase) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestHTTPBadInputCatalogue sends malformed admin and ledger requests to a
// ledgerd with an admin token and checks each status and error message, then
// that nothing changed: the pool size is the one it started with and no
// entry was written.
func TestHTTPBadInputCatalogue(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{AdminToken: plantedToken})
	bearer := "Bearer " + plantedToken
	big := `{"max":` + strings.Repeat(" ", int(httpapi.MaxAdminBody)) + `5}`
	hugeEntry := `{"description":"` + strings.Repeat("x", 2<<20) + `"}`
	entries := "/v1/tenants/t1/entries"
	cases := []httpCase{
		{"admin no auth", "PUT", "/admin/pool", "", `{"max":5}`, nil, 401, "unauthorized"},
		{"admin wrong token", "PUT", "/admin/pool", "Bearer nope", `{"max":5}`, nil, 401, "unauthorized"},
		{"admin token prefix", "PUT", "/admin/pool", "Bearer " + plantedToken[:len(plantedToken)-1], `{"max":5}`, nil, 401, "unauthorized"},
		{"admin basic scheme", "PUT", "/admin/pool", "Basic " + plantedToken, `{"max":5}`, nil, 401, "unauthorized"},
		{"admin GET", "GET", "/admin/pool", bearer, "", nil, 405, ""},
		{"admin DELETE", "DELETE", "/admin/pool", bearer, "", nil, 405, ""},
		{"admin empty body", "PUT", "/admin/pool", bearer, "", nil, 400, ""},
		{"admin not json", "PUT", "/admin/pool", bearer, "max=5", nil, 400, ""},
		{"admin unknown field", "PUT", "/admin/pool", bearer, `{"max":5,"mx":3}`, nil, 400, "mx"},
		{"admin max zero", "PUT", "/admin/pool", bearer, `{"max":0}`, nil, 400, "max"},
		{"admin max negative", "PUT", "/admin/pool", bearer, `{"max":-3}`, nil, 400, "max"},
		{"admin max string", "PUT", "/admin/pool", bearer, `{"max":"5"}`, nil, 400, "max"},
		{"admin max float", "PUT", "/admin/pool", bearer, `{"max":5.5}`, nil, 400, "max"},
		{"admin min above max", "PUT", "/admin/pool", bearer, `{"max":3,"min":9}`, nil, 400, "min"},
		{"admin absurd max", "PUT", "/admin/pool", bearer, `{"max":1000000}`, nil, 400, "max"},
		{"admin trailing data", "PUT", "/admin/pool", bearer, `{"max":5}{"max":6}`, nil, 400, ""},
		{"admin body over limit", "PUT", "/admin/pool", bearer, big, nil, 413, ""},
		{"faults no auth", "PUT", "/admin/faults", "", `{"error_rate":1}`, nil, 401, "unauthorized"},
		{"faults rate above 1", "PUT", "/admin/faults", bearer, `{"error_rate":2}`, nil, 400, "error_rate"},
		{"faults negative latency", "PUT", "/admin/faults", bearer, `{"extra_latency_ms":-1}`, nil, 400, "extra_latency_ms"},
		{"entry not json", "POST", entries, "", "{", nil, 400, ""},
		{"entry unknown field", "POST", entries, "", `{"lines":[],"x":1}`, nil, 400, ""},
		{"entry amount string", "POST", entries, "", `{"lines":[{"account":"a","amount":"1"},{"account":"b","amount":-1}]}`, nil, 400, ""},
		{"entry amount float", "POST", entries, "", `{"lines":[{"account":"a","amount":1.5},{"account":"b","amount":-1.5}]}`, nil, 400, ""},
		{"entry unbalanced", "POST", entries, "", `{"lines":[{"account":"a","amount":5},{"account":"b","amount":-1}]}`, nil, 422, "does not balance"},
		{"entry one line", "POST", entries, "", `{"lines":[{"account":"a","amount":0}]}`, nil, 422, ""},
		{"entry zero amount", "POST", entries, "", `{"lines":[{"account":"a","amount":0},{"account":"b","amount":0}]}`, nil, 422, ""},
		{"entry bad tenant", "POST", "/v1/tenants/bad%20tenant!/entries", "", `{"lines":[{"account":"a","amount":1},{"account":"b","amount":-1}]}`, nil, 400, ""},
		{"entry bad account", "POST", entries, "", `{"lines":[{"account":"a b;--","amount":1},{"account":"b","amount":-1}]}`, nil, 400, ""},
		{"entry huge body", "POST", entries, "", hugeEntry, nil, 413, ""},
		{"entry GET method", "GET", entries, "", "", nil, 405, ""},
		{"unknown route", "GET", "/v1/nope", "", "", nil, 404, ""},
		{"healthz POST", "POST", "/healthz", "", "", nil, 405, ""},
		{"metrics DELETE", "DELETE", "/metrics", "", "", nil, 405, ""},
	}
	before := healthPool(t, ld.URL)
	for _, c := range cases {
		status, body, hdr := do(t, ld.URL, c)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %s %s → %d %q; want %d containing %q", c.name, c.method, c.path, status, trunc(body), c.status, c.want)
		}
		if status == 401 && hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
		if strings.Contains(body, plantedToken) {
			t.Errorf("%s: the admin token is echoed in the answer", c.name)
		}
	}
	after := healthPool(t, ld.URL)
	if before["max"] != after["max"] || before["min"] != after["min"] || after["resizes"].(float64) != 0 {
		t.Errorf("refused resizes changed the pool: before %v/%v after %v/%v resizes %v", before["max"], before["min"], after["max"], after["min"], after["resizes"])
	}
	status, body, _ := do(t, ld.URL, httpCase{method: "GET", path: "/v1/tenants/t1/trial-balance"})
	if status == 200 && strings.Contains(body, `"account"`) {
		t.Errorf("a refused entry was written: %s", trunc(body))
	}
	t.Logf("%d malformed HTTP inputs refused with the expected status", len(cases))
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func healthPool(t *testing.T, base string) map[string]any {
	t.Helper()
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Pool map[string]any `json:"pool"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Pool
}

// TestAdminDisabledWithoutToken: no token configured → every admin route is
// 404, even with a token in the request.
func TestAdminDisabledWithoutToken(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{})
	for _, c := range []httpCase{
		{method: "PUT", path: "/admin/pool", body: `{"max":5}`},
		{method: "PUT", path: "/admin/pool", auth: "Bearer anything", body: `{"max":5}`},
		{method: "PUT", path: "/admin/faults", auth: "Bearer ", body: `{"error_rate":1}`},
		{method: "GET", path: "/admin/faults"},
	} {
		if status, body, _ := do(t, ld.URL, c); status != 404 {
			t.Errorf("%s %s (auth %q) with admin disabled: %d %s, want 404", c.method, c.path, c.auth, status, trunc(body))
		}
	}
}

// TestAdminCompareIsTimingSafe is a code check: every token check goes
// through httpapi/bearer, which hashes both sides and compares them with
// crypto/subtle, never with == or strings/bytes.Equal.
func TestAdminCompareIsTimingSafe(t *testing.T) {
	auth, err := os.ReadFile("../../httpapi/auth.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(auth), "bearer.Check(r, s.opts.AdminToken)") {
		t.Error("httpapi/auth.go does not check the admin token with bearer.Check")
	}
	src, err := os.ReadFile("../../httpapi/bearer/bearer.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{"subtle.ConstantTimeCompare(", "sha256.Sum256([]byte(want))", "sha256.Sum256([]byte(strings.TrimSpace(token)))"} {
		if !strings.Contains(s, want) {
			t.Errorf("httpapi/bearer/bearer.go lacks %q", want)
		}
	}
	bad := regexp.MustCompile(`token\s*(==|!=)\s*want|want\s*(==|!=)\s*token|bytes\.Equal\(|strings\.EqualFold\(token`)
	for name, text := range map[string]string{"httpapi/auth.go": string(auth), "httpapi/bearer/bearer.go": s} {
		if m := bad.FindString(text); m != "" {
			t.Errorf("%s compares the token with %q, not in constant time", name, m)
		}
	}
}

// TestBindLoopbackByDefault: ledgerd listens on loopback unless told
// otherwise, and a non-loopback address sets a warning that ledgerd prints.
func TestBindLoopbackByDefault(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x"}
	cfg, err := service.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.Addr, "127.0.0.1:") || cfg.AddrWarning != "" {
		t.Errorf("default addr %q warning %q, want loopback and no warning", cfg.Addr, cfg.AddrWarning)
	}
	env[service.EnvAddr] = "0.0.0.0:8080"
	cfg, err = service.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AddrWarning == "" || !bytes.Contains([]byte(strings.ToLower(cfg.AddrWarning)), []byte("loopback")) {
		t.Errorf("addr 0.0.0.0:8080: warning %q, want a loud warning naming loopback", cfg.AddrWarning)
	}
}
