package reliability

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
)

// TestPostgresRestartDuringSoak stops (SIGINT, then SIGKILL in a second
// subtest) a private cluster for ~1.5 s while 4
// workers query through the pool, starts it again, and checks: errors were
// counted during the outage, the pool recovers by itself, no operation hung
// past its bound, and after Close no goroutine and no server connection is
// left.
func TestPostgresRestartDuringSoak(t *testing.T) {
	t.Run("stop", func(t *testing.T) { restartDuringSoak(t, false) })
	t.Run("kill", func(t *testing.T) { restartDuringSoak(t, true) })
}

func restartDuringSoak(t *testing.T, kill bool) {
	srv := pgtest.New(t, pgtest.Options{})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreAnyFunction("github.com/poolpilot/poolpilot/internal/pgcluster.(*Server).Start.func1"), goleak.IgnoreAnyFunction("os/exec.(*Cmd).writerDescriptor.func1"))
	admin := srv.URL("postgres")
	p, app := openPool(t, admin, map[string]string{pgpool.EnvMin: "2"})
	halt := make(chan struct{})
	res, done := runLoad(p, 4, 2*time.Second, halt, "SELECT 1")
	eventually(t, 10*time.Second, "load runs", func() bool { return res.ops.Load() > 50 })

	stop := srv.Stop
	if kill {
		stop = srv.Kill // SIGKILL: crash recovery at the next start
	}
	if err := stop(); err != nil {
		t.Fatalf("stop cluster: %v", err)
	}
	eventually(t, 10*time.Second, "errors counted while down", func() bool { return res.errs.Load() > 0 })
	down := time.Now()
	time.Sleep(1500 * time.Millisecond) // the outage itself, not a synchronisation
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	errsAtRestart := res.errs.Load()
	var recovered time.Duration
	eventually(t, 15*time.Second, "pool recovers by itself", func() bool {
		before := res.errs.Load()
		opsBefore := res.ops.Load()
		time.Sleep(200 * time.Millisecond)
		ok := res.errs.Load() == before && res.ops.Load() > opsBefore+20
		if ok {
			recovered = time.Since(down)
		}
		return ok
	})
	close(halt)
	<-done
	st := p.Stats()
	t.Logf("outage (kill %v): ops %d, errors %d (%d at restart), slowest op %s, recovered %s after stop; opened %d closed %d by %v",
		kill, res.ops.Load(), res.errs.Load(), errsAtRestart, time.Duration(res.slowest.Load()).Round(time.Millisecond),
		recovered.Round(time.Millisecond), st.Opened, st.Closed, st.ClosedByReason)
	if s := time.Duration(res.slowest.Load()); s > 3*time.Second {
		t.Errorf("an operation took %s: bounded at 2s", s)
	}
	if _, err := p.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	p.Close()
	eventually(t, 10*time.Second, "no server connection left", func() bool { return backends(t, admin, app) == 0 })
}

// TestBackendsTerminatedUnderLoad terminates every pool backend five times
// while 8 workers share a pool of 4: no acquire or query hangs past its 3 s
// bound and the broken connections are replaced.
func TestBackendsTerminatedUnderLoad(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{})
	admin := srv.URL("postgres")
	p, app := openPool(t, admin, map[string]string{pgpool.EnvMin: "4"})
	stop := make(chan struct{})
	res, done := runLoad(p, 8, 3*time.Second, stop, "SELECT pg_sleep(0.002)")
	eventually(t, 10*time.Second, "load runs", func() bool { return res.ops.Load() > 50 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	killed := 0
	for range 5 {
		var n int
		err := conn.QueryRow(ctx, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) x", app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		killed += n
		ops := res.ops.Load()
		eventually(t, 5*time.Second, "load continues after a kill", func() bool { return res.ops.Load() > ops+20 })
	}
	errsAfterKills := res.errs.Load()
	ops := res.ops.Load()
	eventually(t, 10*time.Second, "no error once the kills stop", func() bool {
		e := res.errs.Load()
		time.Sleep(300 * time.Millisecond)
		return res.errs.Load() == e && res.ops.Load() > ops+50
	})
	close(stop)
	<-done
	st := p.Stats()
	t.Logf("terminated %d backends: ops %d, errors %d, slowest %s, opened %d, closed %d %v",
		killed, res.ops.Load(), errsAfterKills, time.Duration(res.slowest.Load()).Round(time.Millisecond), st.Opened, st.Closed, st.ClosedByReason)
	if killed < 5 {
		t.Fatalf("terminated %d backends, want at least 5", killed)
	}
	if s := time.Duration(res.slowest.Load()); s > 3500*time.Millisecond {
		t.Errorf("an operation took %s: acquire or query hung past its 3s bound", s)
	}
	if st.Opened < int64(4+killed/2) {
		t.Errorf("opened %d connections after %d were terminated: broken ones not replaced", st.Opened, killed)
	}
	if n := backends(t, admin, app); n > 4 {
		t.Errorf("%d server connections for a pool of max 4", n)
	}
}

// TestMaxConnectionsExhausted fills max_connections of a private cluster
// with another client: the pool's further acquires fail fast with a 53300
// refusal counted in Stats().ServerRefusals, and its connections already
// open keep working. A resize up into the wall is accepted by the pool (the
// gate) but every acquire past the wall is refused and counted: "rolled
// back" is the controller's decision (see docs/reliability.md).
func TestMaxConnectionsExhausted(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{Settings: map[string]string{
		"max_connections": "12", "superuser_reserved_connections": "0",
	}})
	admin := srv.URL("postgres")
	p, _ := openPool(t, admin, map[string]string{pgpool.EnvMax: "2", pgpool.EnvMin: "2"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	eventually(t, 5*time.Second, "min connections open", func() bool { return p.Stats().Total >= 2 })
	// Another client takes every remaining slot.
	var hogs []*pgx.Conn
	defer func() {
		for _, c := range hogs {
			c.Close(context.Background())
		}
	}()
	for range 20 {
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			if !strings.Contains(err.Error(), "53300") {
				t.Fatalf("hog connect: %v", err)
			}
			break
		}
		hogs = append(hogs, c)
	}
	if len(hogs) < 5 {
		t.Fatalf("only %d hog connections", len(hogs))
	}
	if err := p.Resize(ctx, 6, 0); err != nil {
		t.Fatalf("resize up: %v", err)
	}
	// Hold the 2 open connections so the next acquires must dial.
	var held []*pgpool.Conn
	for range 2 {
		c, err := p.Acquire(ctx)
		if err != nil {
			t.Fatalf("acquire of an open connection: %v", err)
		}
		held = append(held, c)
	}
	t0 := time.Now()
	_, err := p.Acquire(ctx)
	el := time.Since(t0)
	if err == nil || !strings.Contains(err.Error(), "53300") || !strings.Contains(err.Error(), "lower DB_POOL_MAX or raise max_connections") {
		t.Fatalf("acquire past the wall: err %v, want a 53300 refusal that says what to do", err)
	}
	if el > time.Second {
		t.Errorf("refusal took %s, want fast (no wait for the connection timeout)", el)
	}
	st := p.Stats()
	if st.ServerRefusals < 1 {
		t.Errorf("ServerRefusals = %d, want >= 1", st.ServerRefusals)
	}
	for _, c := range held {
		if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
			t.Errorf("open connection broken by the wall: %v", err)
		}
		c.Release()
	}
	t.Logf("hogs %d; refusal after %s; stats refusals %d timeouts %d; err: %v", len(hogs), el.Round(time.Millisecond), st.ServerRefusals, st.AcquireTimeouts, err)
}
