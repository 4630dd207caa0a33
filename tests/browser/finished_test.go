package browsertest

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/poolpilot/poolpilot/dashboard"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// TestFinishedRunsInChromium opens the list of an evidence dir, reaches a
// run with the keyboard, and opens its report: no console error, the page
// reads as finished.
func TestFinishedRunsInChromium(t *testing.T) {
	dir := t.TempDir()
	evidencetest.Build(t, dir, evidencetest.Rollback)
	hub, err := dashboard.NewHub(dashboard.Options{EvidenceDir: dir, Secrets: []string{evidencetest.AdminToken}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hub.Handler())
	t.Cleanup(func() { srv.Close(); hub.Close() })
	probs := &problems{}
	ctx := newBrowser(t, probs)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	// Tab through the page until the run's link has the focus, then Enter.
	for i := 0; ; i++ {
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute('href') || ''`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(href, "/runs/") {
			break
		}
		if i > 10 {
			t.Fatal("Tab never reached the run's link")
		}
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	ps := waitPage(t, ctx, 10*time.Second, "the finished run's page", nil, func(ps pageState) bool {
		return ps.Ready && ps.State == "rolled-back" && ps.Conn == "read from the evidence folder" && ps.Points["chart-latency_p95"] > 0
	})
	if ps.Criteria["latency_high"] != "firing" || ps.Rows < 10 {
		t.Errorf("finished page: %+v", ps)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/runs/"+evidencetest.RunID+"/report")); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title == "" {
		t.Errorf("report title %q: %v", title, err)
	}
	if p := probs.get(); len(p) > 0 {
		t.Errorf("the pages logged %d problem(s):\n%s", len(p), strings.Join(p, "\n"))
	}
}
