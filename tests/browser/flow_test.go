package browsertest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/runner"
)

// TestLiveRunInChromium opens a real run's page, watches the state advance,
// a criterion change state and the charts fill, survives a dropped
// connection, rolls the run back from the page with the keyboard, and
// checks that the page logged no error.
func TestLiveRunInChromium(t *testing.T) {
	probs := &problems{}
	ctx := newBrowser(t, probs)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	w := startWorld(t)
	id := w.runID(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(w.srv.URL+"/runs/"+id)); err != nil {
		t.Fatal(err)
	}
	states := map[string]bool{}
	critSeen := map[string]map[string]bool{}
	seen := func(ps pageState) {
		states[ps.State] = true
		for n, s := range ps.Criteria {
			if critSeen[n] == nil {
				critSeen[n] = map[string]bool{}
			}
			critSeen[n][s] = true
		}
	}
	waitPage(t, ctx, 10*time.Second, "connected", seen, func(ps pageState) bool { return ps.Conn == "live" })
	ps := waitPage(t, ctx, 60*time.Second, "soak with charts", seen, func(ps pageState) bool {
		return ps.State == string(change.StateSoak) && ps.Points["chart-latency_p95"] >= 5 && ps.Criteria["pool_max"] == "ok"
	})
	for _, s := range []change.State{change.StateBaseline, change.StateSoak} {
		if !states[string(s)] {
			t.Errorf("the page never showed state %s (saw %v)", s, states)
		}
	}
	if !critSeen["pool_max"]["pending"] && !critSeen["pool_max"]["firing"] {
		t.Errorf("pool_max never left ok before the change was applied: %v", critSeen["pool_max"])
	}
	if ps.Points["chart-utilization"] < 5 || ps.Rows < 10 || ps.Disabled {
		t.Errorf("running page: %+v", ps)
	}
	before := ps.Points["chart-latency_p95"]

	// Drop every connection: the EventSource reconnects with its last id
	// and the page keeps updating.
	// Chromium logs the cut stream as a network error: expected here only.
	done := probs.expect(func(s string) bool { return strings.Contains(s, "/events") && strings.Contains(s, "net::ERR_") })
	w.srv.CloseClientConnections()
	waitPage(t, ctx, 15*time.Second, "charts growing after a reconnect", seen, func(ps pageState) bool {
		return ps.Conn == "live" && ps.Points["chart-latency_p95"] >= before+3
	})
	done()
	shot(t, ctx, "dashboard-running.png", true)

	// Roll back with the keyboard only: type in each field, Tab to the
	// button, Enter.
	if err := chromedp.Do(ctx,
		chromedp.Focus("#rb-token"), chromedp.KeyEvent(dashToken),
		chromedp.KeyEvent("\t"), chromedp.KeyEvent("E2E Operator"),
		chromedp.KeyEvent("\t"), chromedp.KeyEvent("p95 climbing on instance-2, rolling back by hand"),
		chromedp.KeyEvent("\t"),
	); err != nil {
		t.Fatal(err)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if err != nil || focused != "rb-submit" {
		t.Fatalf("Tab from the reason lands on %q (%v), want the rollback button", focused, err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, 10*time.Second, "rollback requested", seen, func(ps pageState) bool { return strings.Contains(ps.Status, "Rollback requested") })
	ps = waitPage(t, ctx, 60*time.Second, "rolled back and verified", seen, func(ps pageState) bool {
		return ps.State == string(change.StateRolledBack) && strings.HasPrefix(ps.Conn, "run ended")
	})
	if ps.Steps["rolling-back"] != "done" || !strings.HasPrefix(ps.Steps["rolled-back"], "current") || ps.Steps["succeeded"] != "todo" {
		t.Errorf("state machine at the end: %v", ps.Steps)
	}
	if !ps.Disabled {
		t.Error("the rollback form is still enabled after the end")
	}
	var res runner.Result
	select {
	case res = <-w.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not return")
	}
	if w.runErr != nil || res.State != change.StateRolledBack {
		t.Fatalf("run: %+v %v", res, w.runErr)
	}
	checkAudit(t, res.Dir)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.scrollTo(0, 0), 0`)); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "dashboard-finished.png", true)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || overflow {
		t.Errorf("the page scrolls sideways on a phone (%v)", err)
	}
	shot(t, ctx, "dashboard-phone.png", false)
	if p := probs.get(); len(p) > 0 {
		t.Errorf("the page logged %d problem(s):\n%s", len(p), strings.Join(p, "\n"))
	}
	for _, s := range []string{dashToken, adminToken} {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
		if strings.Contains(body, s) {
			t.Errorf("the page shows a secret")
		}
	}
}

// checkAudit finds the operator's request, with who and why, in the run's
// audit log, and the evidence verifies.
func checkAudit(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, evidence.FileAudit))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rl := range evidence.ReadAuditLines(b) {
		if rl.Err != nil || rl.Line.Event != "rollback_requested" {
			continue
		}
		var d struct{ By, Reason string }
		_ = json.Unmarshal(rl.Line.Data, &d)
		found = d.By == "E2E Operator (dashboard, admin token)" && d.Reason == "p95 climbing on instance-2, rolling back by hand"
	}
	if !found {
		t.Error("the audit log lacks the dashboard's rollback request with its author and reason")
	}
	if res, err := evidence.Verify(dir, nil); err != nil || !res.OK {
		t.Errorf("evidence verify: %+v %v", res.First(), err)
	}
}
