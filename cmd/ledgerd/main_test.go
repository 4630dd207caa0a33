package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/testutil"
	"github.com/poolpilot/poolpilot/ledger"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

// TestBadConfigExits2BeforeConnecting points DATABASE_URL at a listener
// that counts connections: an invalid DB_POOL_MAX must stop ledgerd with
// status 2 and a message naming the variable before any connection.
func TestBadConfigExits2BeforeConnecting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	env := map[string]string{
		"DATABASE_URL": "postgres://app:hunter2@" + ln.Addr().String() + "/db",
		"DB_POOL_MAX":  "10", "DB_POOL_MIN": "300", "LEDGERD_ADDR": "127.0.0.1:0",
	}
	var out, errb testutil.Buffer
	err = run(context.Background(), nil, func(k string) string { return env[k] }, &out, &errb)
	ln.Close()
	if code := poolpilot.ExitCode(err); code != 2 {
		t.Fatalf("exit %d (%v), want 2", code, err)
	}
	if !strings.Contains(err.Error(), "DB_POOL_MIN") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("message %q must name DB_POOL_MIN and not leak the password", err)
	}
	select {
	case <-accepted:
		t.Fatal("ledgerd connected to the database despite invalid configuration")
	default:
	}
}

func TestArgsAndHelp(t *testing.T) {
	var out, errb testutil.Buffer
	if err := run(context.Background(), []string{"--help"}, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "LEDGERD_ADDR") {
		t.Fatalf("--help: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"serve"}, nil, &out, &errb); poolpilot.ExitCode(err) != 2 {
		t.Fatalf("extra argument: %v", err)
	}
}

// TestRunInProcess starts run on a real database, reads the printed
// address, serves a request, and cancels ctx (as SIGTERM does in main).
func TestRunInProcess(t *testing.T) {
	// The test server trusts every connection, so a password in the URL is
	// accepted and ignored: it must still never reach the logs.
	dbURL := strings.Replace(pgtest.NewDatabase(t), "postgres://postgres@", "postgres://postgres:s3cret-canary@", 1)
	env := map[string]string{"DATABASE_URL": dbURL, "DB_POOL_MAX": "4", "DB_POOL_MIN": "1",
		"LEDGERD_ADDR": "127.0.0.1:0", "LEDGERD_LOG_LEVEL": "debug"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb testutil.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, &out, &errb) }()
	addr := waitFor(t, &out, "listening addr=", done)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run after cancel: %v\n%s", err, errb.String())
	}
	if !strings.Contains(dbURL, "s3cret-canary") || strings.Contains(errb.String()+out.String(), "s3cret-canary") {
		t.Errorf("the password is in the output (or the test lost it):\n%s", errb.String())
	}
	for _, want := range []string{`"msg":"listening"`, `"msg":"stopped"`, "[REDACTED]"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, errb.String())
		}
	}
}

// waitFor polls out until a line starts with prefix and returns the rest.
func waitFor(t *testing.T, out *testutil.Buffer, prefix string, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(out.String(), "\n") {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return rest
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before printing %q: %v", prefix, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no %q line within 30s", prefix)
	return ""
}

// TestSIGTERMFinishesInFlightRequest runs the real binary: a POST held in
// flight by injected latency is answered 201 although SIGTERM arrives
// meanwhile, and ledgerd exits 0.
func TestSIGTERMFinishesInFlightRequest(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{Process: true, AdminToken: "drill-token"})
	ld.SetFaults(t, ledger.FaultSettings{ExtraLatencyMS: 1500})
	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post(ld.URL+"/v1/tenants/t1/entries", "application/json",
			strings.NewReader(`{"description":"sale","lines":[{"account":"cash","amount":5},{"account":"revenue","amount":-5}]}`))
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{status: resp.StatusCode, body: string(b)}
	}()
	waitInFlight(t, ld)
	if err := ld.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, ld.Addr) // stops accepting at once…
	r := <-res              // …while the in-flight request still completes
	if r.err != nil || r.status != 201 {
		t.Fatalf("in-flight request: %d %q %v\nlogs:\n%s", r.status, r.body, r.err, ld.Logs())
	}
	code, err := ld.Wait(20 * time.Second)
	if err != nil || code != 0 {
		t.Fatalf("exit %d, %v\nlogs:\n%s", code, err, ld.Logs())
	}
	if !strings.Contains(ld.Logs(), "signal received") {
		t.Errorf("no shutdown log line:\n%s", ld.Logs())
	}
}

// waitRefused polls until new TCP connections to addr are refused.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
	t.Fatal("ledgerd still accepts connections 5s after SIGTERM")
}

// waitInFlight polls GET /admin/faults until a /v1 request is in flight.
func waitInFlight(t *testing.T, ld *ledgerdtest.Instance) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", ld.URL+"/admin/faults", nil)
		req.Header.Set("Authorization", "Bearer "+ld.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `"in_flight":1`) {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
	t.Fatal("the request never got in flight")
}
