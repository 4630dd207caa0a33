package dashboard

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// waitFor polls the JSON snapshot until ok or 5 s.
func waitFor(t *testing.T, url, what string, ok func(View) bool) View {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, body := get(t, url)
		var v View
		if err := json.Unmarshal([]byte(body), &v); err == nil && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s; last %.300s", what, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLiveRunFeedsPageAndSnapshot(t *testing.T) {
	lf := newLive(t, Options{Token: testToken})
	id := lf.folder.RunID()
	api := lf.srv.URL + "/api/runs/" + id
	lf.state(t, change.StatePreflight, change.StateAwaitingApproval, "")
	lf.state(t, change.StateAwaitingApproval, change.StateApproved, "1 of 1 approvals")
	lf.state(t, change.StateApproved, change.StateBaseline, "")
	lf.eval(criteria.StateOK, 0.2, 0)
	v := waitFor(t, api, "baseline with samples and timeline", func(v View) bool {
		return v.State == "baseline" && len(v.Samples) >= 2 && len(v.Timeline) >= 4 && len(v.Instances) == 2
	})
	if !v.Live || v.Terminal || !v.Rollback.Enabled || v.PlanInfo == nil || v.PlanInfo.ToMax != 200 {
		t.Errorf("live view: live %v terminal %v rollback %+v plan %+v", v.Live, v.Terminal, v.Rollback, v.PlanInfo)
	}
	if v.Instances[0].Max != 200 || v.Instances[0].Host != "127.0.0.1:1" || v.Instances[1].Status != "unreachable" {
		t.Errorf("instances: %+v", v.Instances)
	}
	if s := v.Samples[len(v.Samples)-1]; s.Utilization == nil || *s.Utilization != 0.2 || s.LatencyP95MS == nil || *s.LatencyP95MS != 42 {
		t.Errorf("sample: %+v", s)
	}
	lf.state(t, change.StateBaseline, change.StateApplying, "driver admin")
	lf.health.set(0.8)
	lf.eval(criteria.StatePending, 0.8, 7)
	v = waitFor(t, api, "pending criterion", func(v View) bool {
		return v.State == "applying" && len(v.Criteria) == 2 && v.Criteria[0].State == "pending"
	})
	if v.Criteria[0].LeftS != 7 || v.Criteria[0].Metric != "pool.utilization" {
		t.Errorf("criterion: %+v", v.Criteria[0])
	}
	_, _, page := get(t, lf.srv.URL+"/runs/"+id)
	for _, want := range []string{`aria-current="step"`, "fires in 7s", "◔ pending", `id="rb-form"`, "Pool utilization", "applying", "phase1_live"} {
		if !strings.Contains(page, want) {
			t.Errorf("live page lacks %q", want)
		}
	}
	lf.state(t, change.StateApplying, change.StateRollingBack, "manual")
	lf.state(t, change.StateRollingBack, change.StateRolledBack, "restored")
	if _, err := lf.folder.Close(); err != nil {
		t.Fatal(err)
	}
	lf.live.Ended(change.StateRolledBack, "manual rollback", time.Now())
	v = waitFor(t, api, "ended and verified", func(v View) bool { return v.Terminal && v.Verify != nil })
	if v.State != "rolled-back" || !v.Verify.OK || v.Rollback.Enabled {
		t.Errorf("ended: state %s verify %+v rollback %+v", v.State, v.Verify, v.Rollback)
	}
}

func TestRollbackEndpoint(t *testing.T) {
	lf := newLive(t, Options{Token: testToken})
	id := lf.folder.RunID()
	url := lf.srv.URL + "/api/runs/" + id + "/rollback"
	lf.state(t, change.StatePreflight, change.StateAwaitingApproval, "")
	json := "application/json"
	cases := []struct {
		name, auth, ct, body string
		want                 int
	}{
		{"no header", "", json, `{"reason":"r"}`, 401},
		{"basic", "Basic " + testToken, json, `{"reason":"r"}`, 401},
		{"wrong token", "Bearer wrong-token-123", json, `{"reason":"r"}`, 401},
		{"token prefix", "Bearer " + testToken[:10], json, `{"reason":"r"}`, 401},
		{"form body", "Bearer " + testToken, "application/x-www-form-urlencoded", "reason=r", 415},
		{"no reason", "Bearer " + testToken, json, `{"by":"alice"}`, 400},
		{"blank reason", "Bearer " + testToken, json, `{"reason":"   "}`, 400},
		{"unknown field", "Bearer " + testToken, json, `{"reason":"r","token":"x"}`, 400},
		{"long reason", "Bearer " + testToken, json, `{"reason":"` + strings.Repeat("x", 1001) + `"}`, 400},
		{"bad json", "Bearer " + testToken, json, `{`, 400},
	}
	for _, c := range cases {
		code, hdr, body := do(t, "POST", url, c.body, "Authorization", c.auth, "Content-Type", c.ct)
		if code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
		if c.want == 401 && hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", c.name)
		}
	}
	if n := len(lf.calls.get()); n != 0 {
		t.Fatalf("%d rollback calls after refused requests", n)
	}
	code, _, body := do(t, "POST", url, `{"by":"alice","reason":"p95 climbing on ledgerd-2"}`, "Authorization", "Bearer "+testToken, "Content-Type", json)
	if code != http.StatusAccepted {
		t.Fatalf("good request: %d %s", code, body)
	}
	calls := lf.calls.get()
	if len(calls) != 1 || calls[0][0] != lf.folder.Dir() || calls[0][1] != "alice (dashboard, admin token)" || calls[0][2] != "p95 climbing on ledgerd-2" {
		t.Fatalf("rollback calls: %v", calls)
	}
	_, _, page := get(t, lf.srv.URL+"/runs/"+id)
	if !strings.Contains(page, "Rollback requested at") {
		t.Error("the page does not show the request")
	}
	lf.live.Ended(change.StateRefused, "manual rollback", time.Now())
	waitFor(t, lf.srv.URL+"/api/runs/"+id, "ended", func(v View) bool { return v.Terminal })
	code, _, body = do(t, "POST", url, `{"reason":"again"}`, "Authorization", "Bearer "+testToken, "Content-Type", json)
	if code != http.StatusConflict || !strings.Contains(body, "ended") {
		t.Errorf("after the end: %d %s, want 409", code, body)
	}
}

func TestRollbackDisabledWithoutToken(t *testing.T) {
	lf := newLive(t, Options{})
	code, _, _ := do(t, "POST", lf.srv.URL+"/api/runs/"+lf.folder.RunID()+"/rollback", `{"reason":"r"}`,
		"Authorization", "Bearer anything", "Content-Type", "application/json")
	if code != 404 {
		t.Errorf("no token configured: %d, want 404", code)
	}
	if n := len(lf.calls.get()); n != 0 {
		t.Errorf("%d rollback calls", n)
	}
}

func TestRollbackOfFinishedRunIs409(t *testing.T) {
	_, srv, _ := serveFixture(t, Options{Token: testToken, Rollback: func(dir, by, reason string) error { t.Error("called"); return nil }})
	code, _, body := do(t, "POST", srv.URL+"/api/runs/"+evidencetest.RunID+"/rollback", `{"reason":"r"}`,
		"Authorization", "Bearer "+testToken, "Content-Type", "application/json")
	if code != http.StatusConflict {
		t.Errorf("finished run: %d %s, want 409", code, body)
	}
}

func TestNewHubRefusesShortToken(t *testing.T) {
	if _, err := NewHub(Options{Token: "abc"}); err == nil {
		t.Error("a 3-character token was accepted")
	}
}
