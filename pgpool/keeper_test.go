package pgpool

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// TestKeeperIdleLifetimeMin: idle connections above min are closed after the
// idle timeout, connections past their lifetime are replaced, min is kept.
func TestKeeperIdleLifetimeMin(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	cfg, err := LoadConfig(envOf(map[string]string{EnvDatabaseURL: dsn, EnvMax: "5", EnvMin: "1",
		EnvIdleTimeout: "200ms", EnvMaxLifetime: "1500ms", EnvHealthCheckPeriod: "100ms"}))
	if err != nil {
		t.Fatal(err)
	}
	p := openTest(t, cfg, Options{})
	ctx := context.Background()
	var held []*Conn
	for range 5 {
		c, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		c.Release()
	}
	if s := p.Stats(); s.Total != 5 {
		t.Fatalf("total %d, want 5", s.Total)
	}
	waitFor(t, 3*time.Second, func() bool {
		s := p.Stats()
		return s.Total == 1 && s.ClosedByReason["idle"] == 4
	}, "idle connections above min to close")
	waitFor(t, 5*time.Second, func() bool {
		s := p.Stats()
		return s.ClosedByReason["lifetime"] >= 1 && s.Total == 1
	}, "the min connection to be replaced after its lifetime")
	waitFor(t, 3*time.Second, func() bool {
		s := p.Stats()
		return s.Constructing == 0 && s.Opened == s.Closed+int64(s.Total)
	}, "opened = closed + total")
	if _, err := p.Exec(ctx, "select 1"); err != nil {
		t.Fatal(err)
	}
}

// TestCloseLeavesNoGoroutines: Close stops the keeper, the monitor and the
// background closers.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	before := goleak.IgnoreCurrent()
	ctx := context.Background()
	p, err := Open(ctx, testConfig(t, dsn, 3, 1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.Acquire(ctx)
	b, _ := p.Acquire(ctx)
	c, _ := p.Acquire(ctx)
	if err := p.Ping(ctx); err != nil { // through the monitor connection
		t.Fatal(err)
	}
	if err := p.Resize(ctx, 1, 0); err != nil {
		t.Fatal(err)
	}
	a.Release()
	b.Release()
	c.Release()
	p.Close()
	p.Close() // idempotent
	if _, err := p.Exec(ctx, "select 1"); err == nil {
		t.Error("Exec on a closed pool succeeded")
	}
	goleak.VerifyNone(t, before)
}

// TestReleaseInsideTransactionCloses: a connection returned inside a
// transaction is closed (reason broken), never reused.
func TestReleaseInsideTransactionCloses(t *testing.T) {
	p := openTest(t, testConfig(t, pgtest.NewDatabase(t), 2, 0), Options{})
	ctx := context.Background()
	c, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid, next int
	if err := c.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "begin"); err != nil {
		t.Fatal(err)
	}
	c.Release()
	c.Release() // harmless
	if err := p.QueryRow(ctx, "select pg_backend_pid()").Scan(&next); err != nil || next == pid {
		t.Fatalf("next acquire got the connection left inside a transaction (pid %d): %v", pid, err)
	}
	if s := p.Stats(); s.ClosedByReason["broken"] != 1 || s.Acquired != 0 {
		t.Errorf("closed %v acquired %d", s.ClosedByReason, s.Acquired)
	}
}
