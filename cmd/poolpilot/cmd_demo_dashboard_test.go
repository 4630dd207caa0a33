package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
)

// urlWatcher is a stderr that reports the dashboard URL once it is printed.
type urlWatcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	once sync.Once
	url  chan string
}

func (w *urlWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := dashURLRe.FindStringSubmatch(w.buf.String()); m != nil {
		w.once.Do(func() { w.url <- m[1] })
	}
	return len(p), nil
}

// The demo serves its runs live on --dashboard: while the act runs, the
// run list shows it.
func TestDemoServesTheLiveDashboard(t *testing.T) {
	demoVerdictTest(t)
	stderr := &urlWatcher{url: make(chan string, 1)}
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"demo", "--scenario", "success", "--evidence-dir", t.TempDir(),
			"--dashboard", "127.0.0.1:0", "--baseline", "2s", "--load-duration", "3s", "--rate", "20", "--soak-rate", "10",
			"--soak", "6s", "--window", "3s"}, func(string) string { return "" }, strings.NewReader(""), &out, stderr)
	}()
	var url string
	select {
	case url = <-stderr.url:
	case err := <-done:
		t.Fatalf("demo ended (exit %d) without printing a dashboard URL:\n%s", poolpilot.ExitCode(err), stderr.buf.String())
	}
	// The list page names the act's plan once the run has started.
	var page string
	for i := 0; i < 200 && !strings.Contains(page, "phase1_demo_success"); i++ {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page = string(b)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", url, resp.Status)
		}
		select {
		case err := <-done:
			if !strings.Contains(page, "phase1_demo_success") {
				t.Fatalf("demo ended (exit %d) before its run showed on the dashboard", poolpilot.ExitCode(err))
			}
			done <- err
		default:
		}
		if !strings.Contains(page, "phase1_demo_success") {
			time.Sleep(100 * time.Millisecond) // poll, at most 20 s in all
		}
	}
	if !strings.Contains(page, "phase1_demo_success") {
		t.Fatalf("dashboard list never showed the run:\n%s", page)
	}
	if err := <-done; poolpilot.ExitCode(err) != 0 {
		t.Fatalf("demo exit %d:\n%s", poolpilot.ExitCode(err), stderr.buf.String())
	}
}
