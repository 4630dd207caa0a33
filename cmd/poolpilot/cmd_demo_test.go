package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
)

func TestDemoRunsAndReportsPoolMax10(t *testing.T) {
	start := time.Now()
	out, stderr, code := runCLI(t, nil, "demo", "--duration", "2s", "--rate", "100", "--seed", "7")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("demo took %v, want < 20s", d)
	}
	for _, want := range []string{`"max": 10`, `"min": 2`, `"service": "ledgerd"`, `"status": "ok"`, "integrity ok", "0 errors, 0 violations"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	m := regexp.MustCompile(`demo: (\d+) requests`).FindStringSubmatch(out)
	if m == nil || len(m[1]) < 3 { // at least 100 requests
		t.Errorf("summary does not report a burst of hundreds of requests:\n%s", out)
	}
	if !strings.Contains(stderr, "==> starting an ephemeral PostgreSQL") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
}

func TestDemoJSON(t *testing.T) {
	out, stderr, code := runCLI(t, nil, "demo", "--duration", "500ms", "--rate", "100", "--json", "--pool-max", "6", "--pool-min", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var rep struct {
		OK      bool `json:"ok"`
		Healthz struct {
			Pool struct{ Max, Min int } `json:"pool"`
		} `json:"healthz"`
		Integrity struct {
			OK             bool  `json:"ok"`
			CheckedEntries int64 `json:"checked_entries"`
		} `json:"integrity"`
		Load struct {
			Requests int64 `json:"requests"`
		} `json:"load"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if !rep.OK || rep.Healthz.Pool.Max != 6 || rep.Healthz.Pool.Min != 1 || !rep.Integrity.OK || rep.Integrity.CheckedEntries == 0 || rep.Load.Requests == 0 {
		t.Fatalf("report %+v", rep)
	}
}

func TestDemoBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--rate", "0"},
		{"demo", "--duration", "1ns"},
		{"demo", "--tenants", "1"},
		{"demo", "--log-level", "loud"},
		{"demo", "--pool-max", "2", "--pool-min", "5", "--duration", "100ms"},
		{"demo", "extra"},
	} {
		_, stderr, code := runCLI(t, nil, args...)
		if code != poolpilot.ExitBadInput || !strings.Contains(stderr, "poolpilot:") {
			t.Errorf("%v: exit %d, stderr %q; want 2", args, code, stderr)
		}
	}
}

// lockedWriter lets the test read what the demo wrote while it runs.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestDemoKeepRunsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errw lockedWriter
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--keep", "--duration", "300ms"}, func(string) string { return "" }, strings.NewReader(""), &out, &errw)
	}()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(errw.String(), "--keep: ledgerd stays on") {
		select {
		case err := <-done:
			t.Fatalf("demo --keep returned before Ctrl-C: %v\n%s", err, errw.String())
		case <-deadline:
			t.Fatalf("demo --keep never reported it was running:\n%s", errw.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	select {
	case err := <-done:
		t.Fatalf("demo --keep returned without Ctrl-C: %v", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after Ctrl-C: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo --keep did not stop after Ctrl-C")
	}
}
