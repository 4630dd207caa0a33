package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/pgpool"
)

var withToken = []string{"Authorization", "Bearer " + testToken}

func TestAdminResizeOK(t *testing.T) {
	e := newTestEnv(t, nil)
	w := e.do("PUT", "/admin/pool", `{"max":50,"min":5}`, withToken...)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", w.Code, w.Body)
	}
	var got ConfigJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Max != 50 || got.Min != 5 || got.Source["max"] != poolpilot.FromAdmin || got.IdleTimeoutMS != 30000 {
		t.Errorf("config = %+v, want max 50 min 5 from admin", got)
	}
	if len(e.pool.resizes) != 1 || e.pool.resizes[0] != [2]int{50, 5} {
		t.Errorf("Resize calls = %v, want [[50 5]]", e.pool.resizes)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "admin: pool resized") || !strings.Contains(logs, "to_max=50") || !strings.Contains(logs, "from_max=10") {
		t.Errorf("resize not logged with who/what:\n%s", logs)
	}
	if strings.Contains(logs, testToken) || strings.Contains(w.Body.String(), testToken) {
		t.Errorf("token leaked into logs or body")
	}
}

func TestAdminPartialBodyKeepsOtherField(t *testing.T) {
	e := newTestEnv(t, nil)
	if w := e.do("PUT", "/admin/pool", `{"max":40}`, withToken...); w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if w := e.do("PUT", "/admin/pool", `{"min":7}`, withToken...); w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if got := e.pool.resizes; len(got) != 2 || got[0] != [2]int{40, 2} || got[1] != [2]int{40, 7} {
		t.Errorf("Resize calls = %v, want [[40 2] [40 7]]", got)
	}
}

func TestAdminAuth(t *testing.T) {
	cases := []struct {
		name string
		hdr  []string
	}{
		{"no header", nil},
		{"wrong token", []string{"Authorization", "Bearer not-the-token"}},
		{"token prefix", []string{"Authorization", "Bearer " + testToken[:5]}},
		{"token plus suffix", []string{"Authorization", "Bearer " + testToken + "x"}},
		{"basic scheme", []string{"Authorization", "Basic " + testToken}},
		{"no scheme", []string{"Authorization", testToken}},
		{"empty bearer", []string{"Authorization", "Bearer "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			w := e.do("PUT", "/admin/pool", `{"max":50,"min":5}`, c.hdr...)
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", w.Code)
			}
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want Bearer …", got)
			}
			if len(e.pool.resizes) != 0 {
				t.Errorf("resized without authorization")
			}
			if strings.Contains(e.logs.String(), testToken) {
				t.Errorf("token in logs:\n%s", e.logs)
			}
		})
	}
	e := newTestEnv(t, nil)
	if w := e.do("PUT", "/admin/pool", `{"max":5}`, "Authorization", "bearer "+testToken); w.Code != 200 {
		t.Errorf("lower-case scheme: status %d, want 200", w.Code)
	}
}

func TestAdminDisabledIs404(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.AdminToken = "" })
	for _, m := range []string{"PUT", "GET", "POST"} {
		for _, hdr := range [][]string{nil, {"Authorization", "Bearer "}, withToken} {
			if w := e.do(m, "/admin/pool", `{"max":5}`, hdr...); w.Code != http.StatusNotFound {
				t.Errorf("%s %v: status %d, want 404", m, hdr, w.Code)
			}
		}
	}
	if len(e.pool.resizes) != 0 {
		t.Errorf("resized with admin disabled")
	}
}

func TestAdminMethods(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, m := range []string{"GET", "POST", "DELETE", "PATCH", "HEAD"} {
		w := e.do(m, "/admin/pool", `{"max":5}`, withToken...)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "PUT" {
			t.Errorf("%s: status %d Allow %q, want 405 PUT", m, w.Code, w.Header().Get("Allow"))
		}
	}
}

func TestAdminBadBodies(t *testing.T) {
	cases := []struct{ body, want string }{
		{``, "empty"},
		{`null`, "empty"},
		{`{}`, "neither"},
		{`[]`, "JSON object"},
		{`"max"`, "JSON object"},
		{`{"max":"50"}`, `"max" must be an integer`},
		{`{"max":50.5}`, `"max" must be an integer`},
		{`{"max":1e3}`, `"max" must be an integer`},
		{`{"max":99999999999999999999}`, `"max" must be an integer`},
		{`{"max":50,"min":5,"idle":1}`, `unknown field "idle"`},
		{`{"Max":50,"mIn":5,"extra":true}`, `unknown field "extra"`},
		{`{"max":50}{"max":60}`, "after the JSON object"},
		{`{"max":50} x`, "after the JSON object"},
		{`{"max":50`, "unexpected EOF"},
		{`{"max":0,"min":0}`, "max (0) must be at least 1"},
		{`{"max":-5,"min":0}`, "max (-5) must not be negative"},
		{`{"max":10001,"min":1}`, "max (10001) is absurd: at most 10000"},
		{`{"max":10,"min":-1}`, "min (-1) must not be negative"},
		{`{"max":10,"min":11}`, "min (11) must not exceed max (10)"},
		{`{"max":1}`, "min (2) must not exceed max (1)"}, // current min is 2
	}
	for _, c := range cases {
		t.Run(c.body, func(t *testing.T) {
			e := newTestEnv(t, nil)
			w := e.do("PUT", "/admin/pool", c.body, withToken...)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			var eb errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || !strings.Contains(eb.Error, c.want) {
				t.Errorf("error = %q (%v), want it to contain %q", eb.Error, err, c.want)
			}
			if len(e.pool.resizes) != 0 {
				t.Errorf("resized on a bad body")
			}
		})
	}
}

func TestAdminValidationReportsAllProblems(t *testing.T) {
	e := newTestEnv(t, nil)
	w := e.do("PUT", "/admin/pool", `{"max":20000,"min":-3}`, withToken...)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "max (20000)") || !strings.Contains(w.Body.String(), "min (-3)") {
		t.Fatalf("status %d body %s, want 400 naming both problems", w.Code, w.Body)
	}
	for _, ok := range []string{`{"max":10000,"min":10000}`, `{"max":1,"min":0}`} {
		if w := e.do("PUT", "/admin/pool", ok, withToken...); w.Code != 200 {
			t.Errorf("%s: status %d, want 200: %s", ok, w.Code, w.Body)
		}
	}
}

func TestAdminOversizedBody(t *testing.T) {
	e := newTestEnv(t, nil)
	body := `{"max":50,"min":5` + strings.Repeat(" ", MaxAdminBody) + `}`
	w := e.do("PUT", "/admin/pool", body, withToken...)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", w.Code)
	}
	if len(e.pool.resizes) != 0 {
		t.Errorf("resized on an oversized body")
	}
	// Exactly at the limit is fine.
	body = `{"max":50,"min":5}`
	body += strings.Repeat(" ", MaxAdminBody-len(body))
	if w := e.do("PUT", "/admin/pool", body, withToken...); w.Code != 200 {
		t.Errorf("body of exactly %d bytes: status %d, want 200", MaxAdminBody, w.Code)
	}
}

func TestAdminResizeFailures(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{fmt.Errorf("resize: %w", poolpilot.ErrResizeConflict), http.StatusConflict},
		{poolpilot.BadInput("max 5000 exceeds the server budget"), http.StatusBadRequest},
		{fmt.Errorf("resize: %w", &pgpool.ConfigError{Problems: []string{"max (5) is odd"}}), http.StatusBadRequest},
		{errors.New("resize: connect postgres://u:pw-s3cret@h/db: refused"), http.StatusInternalServerError},
	}
	for _, c := range cases {
		e := newTestEnv(t, nil)
		e.pool.resizeErr = c.err
		w := e.do("PUT", "/admin/pool", `{"max":50,"min":5}`, withToken...)
		if w.Code != c.code {
			t.Errorf("%v: status %d, want %d", c.err, w.Code, c.code)
		}
		if strings.Contains(w.Body.String(), "pw-s3cret") || strings.Contains(e.logs.String(), "pw-s3cret") {
			t.Errorf("password leaked: %s\n%s", w.Body, e.logs)
		}
		if !strings.Contains(e.logs.String(), "admin: pool resize failed") {
			t.Errorf("failure not logged:\n%s", e.logs)
		}
	}
}

func TestAdminConcurrentResizeConflict(t *testing.T) {
	e := newTestEnv(t, nil)
	e.srv.resize.Lock() // a resize under way
	w := e.do("PUT", "/admin/pool", `{"max":50,"min":5}`, withToken...)
	e.srv.resize.Unlock()
	if w.Code != http.StatusConflict {
		t.Fatalf("status %d, want 409", w.Code)
	}
	if w := e.do("PUT", "/admin/pool", `{"max":50,"min":5}`, withToken...); w.Code != 200 {
		t.Fatalf("after the first resize: status %d, want 200", w.Code)
	}
}

func TestRequireToken(t *testing.T) {
	hit := 0
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit++ })
	e := newTestEnv(t, nil)
	h := e.srv.RequireToken(inner)
	if w := serve(h, "POST", "/v1/admin/x", ""); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("no token: status %d, want 401 with WWW-Authenticate", w.Code)
	}
	if w := serve(h, "POST", "/v1/admin/x", "", "Authorization", "Bearer nope"); w.Code != 401 {
		t.Errorf("wrong token: status %d, want 401", w.Code)
	}
	if w := serve(h, "POST", "/v1/admin/x", "", withToken...); w.Code != 200 || hit != 1 {
		t.Errorf("right token: status %d hits %d, want 200 and 1", w.Code, hit)
	}
	off := newTestEnv(t, func(o *Options) { o.AdminToken = "" })
	if w := serve(off.srv.RequireToken(inner), "POST", "/v1/admin/x", "", withToken...); w.Code != 404 || hit != 1 {
		t.Errorf("disabled: status %d hits %d, want 404 and 1", w.Code, hit)
	}
}
