package browsertest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var screenshots = flag.String("screenshots", "", "write the dashboard's screenshots (PNG) into `DIR` (e.g. docs/img)")

// chromiumPath finds Chromium; the test fails without it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("POOLPILOT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found: install it (apt-get install -y chromium; scripts/test.sh does) or set POOLPILOT_CHROMIUM")
	return ""
}

// problems collects console errors and warnings, uncaught exceptions and
// error log entries (CSP violations, failed loads) of the page.
type problems struct {
	mu    sync.Mutex
	list  []string
	allow func(string) bool // problems expected now (a connection the test drops)
}

// expect lets through the problems allow matches until the returned func
// is called.
func (p *problems) expect(allow func(string) bool) func() {
	p.mu.Lock()
	p.allow = allow
	p.mu.Unlock()
	return func() { p.mu.Lock(); p.allow = nil; p.mu.Unlock() }
}

func (p *problems) listen(ev any) {
	var s string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			s = fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		s = "exception: " + (&chromedp.ExceptionError{ExceptionDetails: e.ExceptionDetails}).Error()
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			s = fmt.Sprintf("log %s %s: %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL)
		}
	}
	if s != "" {
		p.mu.Lock()
		if p.allow == nil || !p.allow(s) {
			p.list = append(p.list, s)
		}
		p.mu.Unlock()
	}
}

func (p *problems) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

func newBrowser(t *testing.T, probs *problems) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true), chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("force-color-profile", "srgb"), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(probs.listen))
	t.Cleanup(func() { cancel(); cancelA() })
	return ctx
}

// pageState is what the test reads from the page.
type pageState struct {
	State    string            `json:"state"`
	Conn     string            `json:"conn"`
	Criteria map[string]string `json:"criteria"`
	Points   map[string]int    `json:"points"`
	Rows     int               `json:"rows"`
	Status   string            `json:"status"`
	Disabled bool              `json:"disabled"`
	Steps    map[string]string `json:"steps"`
	Ready    bool              `json:"ready"` // the document has loaded
}

const readPage = `(() => {
  const q = s => document.querySelector(s);
  const crit = {}; document.querySelectorAll('tr[data-criterion]').forEach(r => { crit[r.dataset.criterion] = r.className.replace('row-', ''); });
  const pts = {}; document.querySelectorAll('figure.chart').forEach(f => { pts[f.id] = parseInt(f.dataset.points || '0', 10); });
  const fs = q('#rb-fields');
  const steps = {}; document.querySelectorAll('li.step').forEach(s => { steps[s.querySelector('.step-name').textContent] = s.className.replace('step ', ''); });
  return { state: (q('[data-testid=state]') || {}).textContent || '', conn: (q('#conn') || {}).textContent || '',
    criteria: crit, points: pts, rows: document.querySelectorAll('#timeline li').length,
    status: (q('#rb-status') || {}).textContent || '', disabled: fs ? fs.disabled : true, steps: steps,
    ready: document.readyState === 'complete' };
})()`

func read(t *testing.T, ctx context.Context) pageState {
	t.Helper()
	ps, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](readPage))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return ps
}

// waitPage polls the page until ok (every 100 ms, up to d).
func waitPage(t *testing.T, ctx context.Context, d time.Duration, what string, seen func(pageState), ok func(pageState) bool) pageState {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ps := read(t, ctx)
		if seen != nil {
			seen(ps)
		}
		if ok(ps) {
			return ps
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(ps)
			t.Fatalf("page: %s not within %s; last %s", what, d, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func shot(t *testing.T, ctx context.Context, name string, full bool) {
	t.Helper()
	var b []byte
	var err error
	if full {
		b, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	} else {
		b, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", filepath.Join(dir, name), len(b))
}
