package ledger_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/ledger"
)

func newAPI(t *testing.T) (*httptest.Server, *ledger.Store) {
	t.Helper()
	store, _ := newStore(t)
	srv := httptest.NewServer(ledger.NewHandler(store, nil))
	t.Cleanup(srv.Close)
	return srv, store
}

// do sends a request and returns the status and the decoded JSON body.
func do(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: content type %q, body %s", method, url, ct, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: body %q is not a JSON object: %v", method, url, raw, err)
	}
	return resp.StatusCode, m
}

const saleBody = `{"description":"sale","lines":[{"account":"cash","amount":1000},{"account":"revenue","amount":-1000}]}`

func TestHTTPPostEntryAndRead(t *testing.T) {
	srv, _ := newAPI(t)
	status, body := do(t, "POST", srv.URL+"/v1/tenants/t1/entries", saleBody)
	if status != 201 || body["tenant"] != "t1" || body["description"] != "sale" || body["id"].(float64) < 1 {
		t.Fatalf("post: %d %v", status, body)
	}
	if _, err := time.Parse(time.RFC3339, body["created_at"].(string)); err != nil {
		t.Fatalf("created_at: %v", err)
	}
	if lines := body["lines"].([]any); len(lines) != 2 || lines[1].(map[string]any)["amount"].(float64) != -1000 {
		t.Fatalf("lines %v", lines)
	}
	status, body = do(t, "GET", srv.URL+"/v1/tenants/t1/accounts/cash/balance", "")
	if status != 200 || body["balance"].(float64) != 1000 || body["entries"].(float64) != 1 || body["account"] != "cash" || body["tenant"] != "t1" {
		t.Fatalf("balance: %d %v", status, body)
	}
	status, body = do(t, "GET", srv.URL+"/v1/tenants/t1/trial-balance", "")
	accts, _ := json.Marshal(body["accounts"])
	if status != 200 || body["total"].(float64) != 0 || string(accts) != `[{"account":"cash","balance":1000},{"account":"revenue","balance":-1000}]` {
		t.Fatalf("trial balance: %d %v", status, body)
	}
	status, body = do(t, "GET", srv.URL+"/v1/integrity", "")
	if status != 200 || body["ok"] != true || body["checked_entries"].(float64) != 1 || body["checked_tenants"].(float64) != 1 || len(body) != 3 {
		t.Fatalf("integrity: %d %v", status, body)
	}
}

func TestHTTPErrors(t *testing.T) {
	srv, _ := newAPI(t)
	long := strings.Repeat("a", 65)
	cases := []struct {
		name, method, path, body string
		status                   int
		errContains              string
	}{
		{"malformed JSON", "POST", "/v1/tenants/t1/entries", `{"lines":[`, 400, "malformed JSON"},
		{"unknown field", "POST", "/v1/tenants/t1/entries", `{"memo":"x","lines":[]}`, 400, `unknown field "memo"`},
		{"unknown line field", "POST", "/v1/tenants/t1/entries", `{"lines":[{"account":"a","amount":1,"currency":"EUR"},{"account":"b","amount":-1}]}`, 400, "currency"},
		{"float amount", "POST", "/v1/tenants/t1/entries", `{"lines":[{"account":"a","amount":1.5},{"account":"b","amount":-1.5}]}`, 400, "malformed JSON"},
		{"amount as string", "POST", "/v1/tenants/t1/entries", `{"lines":[{"account":"a","amount":"1"},{"account":"b","amount":-1}]}`, 400, "malformed JSON"},
		{"trailing data", "POST", "/v1/tenants/t1/entries", saleBody + `{}`, 400, "after the JSON object"},
		{"empty body", "POST", "/v1/tenants/t1/entries", ``, 400, "malformed JSON"},
		{"upper-case tenant", "POST", "/v1/tenants/T1/entries", saleBody, 400, `invalid tenant "T1"`},
		{"long tenant", "POST", "/v1/tenants/" + long + "/entries", saleBody, 400, "invalid tenant"},
		{"bad account", "POST", "/v1/tenants/t1/entries", `{"lines":[{"account":"Cash!","amount":1},{"account":"b","amount":-1}]}`, 400, `invalid account (line 1) "Cash!"`},
		{"empty account", "POST", "/v1/tenants/t1/entries", `{"lines":[{"amount":1},{"account":"b","amount":-1}]}`, 400, "invalid account (line 1)"},
		{"one line", "POST", "/v1/tenants/t1/entries", `{"lines":[{"account":"a","amount":0}]}`, 422, "at least 2 lines"},
		{"no lines", "POST", "/v1/tenants/t1/entries", `{"description":"x"}`, 422, "at least 2 lines, got 0"},
		{"zero amount", "POST", "/v1/tenants/t1/entries", `{"lines":[{"account":"a","amount":0},{"account":"b","amount":0}]}`, 422, "zero amount"},
		{"unbalanced", "POST", "/v1/tenants/t1/entries", `{"lines":[{"account":"a","amount":10},{"account":"b","amount":-5}]}`, 422, "entry does not balance: lines sum to 5"},
		{"huge amount", "POST", "/v1/tenants/t1/entries", `{"lines":[{"account":"a","amount":9000000000000000000},{"account":"b","amount":-9000000000000000000}]}`, 422, "out of range"},
		{"long description", "POST", "/v1/tenants/t1/entries", `{"description":"` + strings.Repeat("d", 501) + `","lines":[{"account":"a","amount":1},{"account":"b","amount":-1}]}`, 400, "description"},
		{"unknown account", "GET", "/v1/tenants/t1/accounts/nope/balance", "", 404, `account "nope" not found for tenant "t1"`},
		{"bad account in path", "GET", "/v1/tenants/t1/accounts/NOPE/balance", "", 400, "invalid account"},
		{"bad tenant in trial balance", "GET", "/v1/tenants/a.b/trial-balance", "", 400, "invalid tenant"},
		{"wrong method", "GET", "/v1/tenants/t1/entries", "", 405, "use POST"},
		{"wrong method integrity", "POST", "/v1/integrity", "", 405, "use GET"},
		{"unknown path", "GET", "/v1/nothing", "", 404, "no such endpoint"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := do(t, c.method, srv.URL+c.path, c.body)
			msg, _ := body["error"].(string)
			if status != c.status || !strings.Contains(msg, c.errContains) {
				t.Fatalf("%s %s: %d %q, want %d containing %q", c.method, c.path, status, msg, c.status, c.errContains)
			}
		})
	}
	// Nothing above was written.
	if status, body := do(t, "GET", srv.URL+"/v1/integrity", ""); status != 200 || body["checked_entries"].(float64) != 0 {
		t.Fatalf("rejected requests wrote rows: %v", body)
	}
}

func TestHTTPBodyTooLarge(t *testing.T) {
	srv, _ := newAPI(t)
	body := `{"description":"` + strings.Repeat("x", ledger.MaxBodyBytes) + `"}`
	status, m := do(t, "POST", srv.URL+"/v1/tenants/t1/entries", body)
	if status != 413 || !strings.Contains(m["error"].(string), "over") {
		t.Fatalf("%d %v", status, m)
	}
}

func TestHTTPCrossTenantInvisible(t *testing.T) {
	srv, _ := newAPI(t)
	if status, _ := do(t, "POST", srv.URL+"/v1/tenants/alpha/entries", saleBody); status != 201 {
		t.Fatal(status)
	}
	if status, body := do(t, "GET", srv.URL+"/v1/tenants/beta/accounts/cash/balance", ""); status != 404 {
		t.Fatalf("beta reads alpha's cash: %d %v", status, body)
	}
	status, body := do(t, "GET", srv.URL+"/v1/tenants/beta/trial-balance", "")
	if status != 200 || len(body["accounts"].([]any)) != 0 || body["total"].(float64) != 0 {
		t.Fatalf("beta trial balance: %d %v", status, body)
	}
}

func TestHTTPIntegrityViolationIs500WithIDs(t *testing.T) {
	store, pool := newStore(t)
	srv := httptest.NewServer(ledger.NewHandler(store, nil))
	defer srv.Close()
	alpha, _ := seedTwoTenants(t, store)
	corrupt(t, pool, "UPDATE ledger.entry_lines SET amount = 7 WHERE entry_id = $1 AND line_no = 2", alpha.ID)
	status, body := do(t, "GET", srv.URL+"/v1/integrity", "")
	raw, _ := json.Marshal(body)
	want := `{"checked_entries":2,"checked_tenants":2,"cross_tenant_lines":[],"ok":false,"tenant_imbalances":[{"tenant":"alpha","total":107}],"unbalanced_entries":[` +
		jsonInt(alpha.ID) + `]}`
	if status != 500 || string(raw) != want {
		t.Fatalf("integrity: %d %s, want 500 %s", status, raw, want)
	}
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestHTTPBalanceAfterEveryPost(t *testing.T) {
	srv, _ := newAPI(t)
	var want float64
	for i, amt := range []int64{5, 17, 1, 999, 3} {
		body := `{"lines":[{"account":"cash","amount":` + jsonInt(amt) + `},{"account":"sales","amount":` + jsonInt(-amt) + `}]}`
		if status, m := do(t, "POST", srv.URL+"/v1/tenants/shop/entries", body); status != 201 {
			t.Fatalf("post %d: %d %v", i, status, m)
		}
		want += float64(amt)
		status, m := do(t, "GET", srv.URL+"/v1/tenants/shop/accounts/cash/balance", "")
		if status != 200 || m["balance"].(float64) != want || m["entries"].(float64) != float64(i+1) {
			t.Fatalf("after post %d: %d %v, want balance %v", i, status, m, want)
		}
	}
	_ = context.Background
}
