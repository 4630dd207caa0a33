package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// TestNoSecretInAnyResponse plants the token, a password in an instance
// URL and an error, and the fixture's secrets in an audit event, and scans
// every response.
func TestNoSecretInAnyResponse(t *testing.T) {
	lf := newLive(t, Options{Token: testToken, Secrets: []string{evidencetest.AdminToken}})
	id := lf.folder.RunID()
	// The folder knows no secret: the line reaches audit.jsonl as is, and
	// the dashboard's own redactor must remove it.
	if err := lf.folder.Record(evidence.Note{Text: "operator pasted " + testToken + " and " + planted + " and " + evidencetest.AdminToken}); err != nil {
		t.Fatal(err)
	}
	lf.state(t, change.StatePreflight, change.StateAwaitingApproval, "reason with "+planted)
	lf.live.Evaluation(criteria.Evaluation{Time: time.Now(), Results: []criteria.Result{{Name: "x", Role: "success", Expr: "error_rate < 0.001",
		State: criteria.StateInconclusive, Reason: "source http://u:" + planted + "@db failed"}}})
	waitFor(t, lf.srv.URL+"/api/runs/"+id, "note read", func(v View) bool { return len(v.Timeline) >= 3 && len(v.Instances) == 2 })
	s := openSSE(t, lf.srv.URL+"/api/runs/"+id+"/events", "")
	s.until(t, "run", func(m sseMsg) bool { return m.event == "run" })
	bodies := []string{s.text()}
	for _, p := range []string{"/", "/runs/" + id, "/api/runs", "/api/runs/" + id, "/runs/" + id + "/files/audit.jsonl", "/runs/" + id + "/report",
		"/assets/app.js", "/runs/nope", "/api/runs/nope"} {
		_, hdr, body := get(t, lf.srv.URL+p)
		bodies = append(bodies, body, strings.Join(hdr.Values("Content-Security-Policy"), ""))
	}
	_, _, body := do(t, "POST", lf.srv.URL+"/api/runs/"+id+"/rollback", `{"reason":"r `+planted+`","by":"`+testToken+`"}`,
		"Authorization", "Bearer "+testToken, "Content-Type", "application/json")
	bodies = append(bodies, body)
	_, _, body = do(t, "POST", lf.srv.URL+"/api/runs/"+id+"/rollback", `{"reason":"r"}`, "Authorization", "Bearer "+testToken+"x", "Content-Type", "application/json")
	bodies = append(bodies, body)
	all := strings.Join(bodies, "\n")
	for _, sec := range []string{testToken, planted, evidencetest.AdminToken} {
		if i := strings.Index(all, sec); i >= 0 {
			t.Errorf("secret %q rendered: …%s…", sec, all[max(0, i-80):min(len(all), i+40)])
		}
	}
	if !strings.Contains(all, "127.0.0.1:1") {
		t.Error("the instance's host is not shown")
	}
}
