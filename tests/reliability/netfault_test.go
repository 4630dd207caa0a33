package reliability

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/faultproxy"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
)

// proxied starts a private cluster and a fault proxy in front of it, and
// returns the proxy and the URL through it.
func proxied(t *testing.T) (*faultproxy.Proxy, string, string) {
	t.Helper()
	srv := pgtest.New(t, pgtest.Options{})
	admin := srv.URL("postgres")
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := faultproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fp.Close)
	dsn, err := fp.RewriteURL(admin)
	if err != nil {
		t.Fatal(err)
	}
	return fp, dsn, admin
}

func timedExec(p *pgpool.Pool, d time.Duration, sql string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	t0 := time.Now()
	_, err := p.Exec(ctx, sql)
	return time.Since(t0), err
}

// TestNetworkLatencyShowsInWaitPercentiles adds 50 ms each way between pool
// and server: dialling a new connection (several round trips) now takes
// hundreds of milliseconds and the pool's wait/dial percentiles show it.
func TestNetworkLatencyShowsInWaitPercentiles(t *testing.T) {
	fp, dsn, _ := proxied(t)
	p, _ := openPool(t, dsn, map[string]string{pgpool.EnvConnectionTimeout: "3s", pgpool.EnvIdleTimeout: "100ms"})
	if _, err := timedExec(p, 5*time.Second, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	base := p.Stats().DialP95MS
	if err := fp.Latency(50*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	// Hold 4 connections at once so the pool must dial new ones through the latency.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var held []*pgpool.Conn
	for range 4 {
		c, err := p.Acquire(ctx)
		if err != nil {
			t.Fatalf("acquire under latency: %v", err)
		}
		held = append(held, c)
	}
	el, err := timedExec2(held[0], "SELECT 1")
	for _, c := range held {
		c.Release()
	}
	st := p.Stats()
	t.Logf("latency 50ms each way: query %s; dial p95 %.1fms (before %.1fms), wait p99 %.1fms", el.Round(time.Millisecond), st.DialP95MS, base, st.WaitP99MS)
	if err != nil || el < 90*time.Millisecond {
		t.Errorf("query under 2x50ms latency took %s (err %v), want >= 100ms", el, err)
	}
	if st.DialP95MS < 100 || st.WaitP99MS < 100 {
		t.Errorf("dial p95 %.1fms, wait p99 %.1fms: the added latency does not show", st.DialP95MS, st.WaitP99MS)
	}
}

func timedExec2(c *pgpool.Conn, sql string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t0 := time.Now()
	_, err := c.Exec(ctx, sql)
	return time.Since(t0), err
}

// TestNetworkStall stalls every byte between pool and server. A stall of
// 300 ms, shorter than DB_POOL_CONNECTION_TIMEOUT (1 s), costs latency and
// no error, on an open connection and on a new dial; a stall of 3 s makes a
// new acquire fail cleanly at the connection timeout, counted as a timeout.
func TestNetworkStall(t *testing.T) {
	fp, dsn, _ := proxied(t)
	p, _ := openPool(t, dsn, map[string]string{pgpool.EnvMax: "2", pgpool.EnvMin: "1", pgpool.EnvConnectionTimeout: "1s"})
	eventually(t, 5*time.Second, "min connection open", func() bool { return p.Stats().Idle >= 1 })

	if err := fp.Stall(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	el, err := timedExec(p, 5*time.Second, "SELECT 1")
	if err != nil || el < 250*time.Millisecond {
		t.Fatalf("open connection across a 300ms stall: %s, %v; want no error and >= 250ms", el, err)
	}
	fp.Clear()
	// A new dial across a short stall: hold the open connection first.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c1, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fp.Stall(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	c2, err := p.Acquire(ctx)
	dial := time.Since(t0)
	if err != nil {
		t.Fatalf("dial across a 300ms stall (timeout 1s): %v", err)
	}
	c2.Release()
	c1.Release()
	fp.Clear()
	timeoutsBefore := p.Stats().AcquireTimeouts

	// A 3s stall: both connections held by callers stuck in the stall, so a
	// third acquire queues and must time out at 1s.
	if err := fp.Stall(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	stuck := make(chan error, 2)
	for range 2 {
		go func() { _, err := timedExec(p, 10*time.Second, "SELECT 1"); stuck <- err }()
	}
	eventually(t, 5*time.Second, "both connections busy", func() bool { return p.Stats().Acquired == 2 })
	t0 = time.Now()
	_, err = timedExec(p, 10*time.Second, "SELECT 1")
	waited := time.Since(t0)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire during a 3s stall: %v, want a clean timeout", err)
	}
	if waited < 900*time.Millisecond || waited > 2*time.Second {
		t.Errorf("timed out after %s, want ~1s (DB_POOL_CONNECTION_TIMEOUT)", waited)
	}
	for range 2 {
		if err := <-stuck; err != nil {
			t.Errorf("query held across the 3s stall: %v (held bytes must be delivered)", err)
		}
	}
	st := p.Stats()
	t.Logf("short stall: dial %s; long stall: timeout after %s: %v; acquire_timeouts %d -> %d", dial.Round(time.Millisecond), waited.Round(time.Millisecond), err, timeoutsBefore, st.AcquireTimeouts)
	if st.AcquireTimeouts <= timeoutsBefore {
		t.Errorf("acquire_timeouts %d, not counted", st.AcquireTimeouts)
	}
}

// TestNetworkBandwidthAndResets limits bandwidth to 32 KB/s (a 64 KB result
// takes seconds) and then resets connections: every operation ends within
// its bound, errors are returned (not hangs), and once the fault is cleared
// the pool serves again with new connections.
func TestNetworkBandwidthAndResets(t *testing.T) {
	fp, dsn, _ := proxied(t)
	p, _ := openPool(t, dsn, map[string]string{pgpool.EnvMax: "2", pgpool.EnvMin: "1"})
	if _, err := timedExec(p, 5*time.Second, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := fp.Bandwidth(32); err != nil {
		t.Fatal(err)
	}
	slow, err := timedExec(p, 20*time.Second, "SELECT repeat('x', 65536)")
	if err != nil || slow < time.Second {
		t.Errorf("64KB at 32KB/s: %s, %v; want no error and >= 1s", slow, err)
	}
	fp.Clear()
	opened := p.Stats().Opened
	if err := fp.Reset(0); err != nil {
		t.Fatal(err)
	}
	el, err := timedExec(p, 3*time.Second, "SELECT 1")
	if err == nil {
		t.Errorf("query through a reset connection succeeded")
	}
	if el > 3500*time.Millisecond {
		t.Errorf("reset took %s to surface", el)
	}
	fp.Clear()
	eventually(t, 10*time.Second, "pool serves after resets", func() bool {
		_, err := timedExec(p, 2*time.Second, "SELECT 1")
		return err == nil
	})
	st := p.Stats()
	t.Logf("bandwidth 32KB/s: 64KB in %s; reset surfaced after %s: %v; opened %d -> %d, closed %v", slow.Round(time.Millisecond), el.Round(time.Millisecond), err, opened, st.Opened, st.ClosedByReason)
	if st.Opened <= opened {
		t.Errorf("no new connection after the reset")
	}
}
