package reliability

import (
	"context"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/source/health"
)

// watcher evaluates one rollback trigger against ledgerd's /healthz every
// 200 ms, as `poolpilot watch` and the runner do.
type watcher struct {
	src *health.Source
	eng *criteria.Engine
}

func (w *watcher) tick(t *testing.T) *criteria.Decision {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	samples, _ := w.src.Collect(ctx)
	w.eng.Observe(samples...)
	w.eng.Evaluate()
	return w.eng.Decision()
}

// watchFor ticks for d and returns the first decision, if any.
func (w *watcher) watchFor(t *testing.T, d time.Duration) *criteria.Decision {
	t.Helper()
	tk := time.NewTicker(200 * time.Millisecond)
	defer tk.Stop()
	end := time.After(d)
	for {
		select {
		case <-end:
			return nil
		case <-tk.C:
			if dec := w.tick(t); dec != nil {
				return dec
			}
		}
	}
}

// TestOutageTriggerWindow restarts the PostgreSQL behind a ledgerd twice
// while the criteria engine watches "reachable == 0 for 3s" through
// source/health: a 1 s outage does not fire it, a 5 s outage does, after
// the window has held.
func TestOutageTriggerWindow(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{})
	ld := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: srv.URL("postgres"),
		Env: map[string]string{"DB_POOL_CONNECTION_TIMEOUT": "300ms", "DB_POOL_MIN": "0"}})
	src, err := health.New([]string{ld.URL + "/healthz"}, health.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := criteria.New([]poolpilot.CriterionSpec{{Name: "db_down", Expr: "reachable == 0", Role: poolpilot.RoleRollback,
		Class: poolpilot.ClassP0, For: poolpilot.Duration(3 * time.Second), Description: "database unreachable 3s"}},
		criteria.Options{Interval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{src: src, eng: eng}
	if dec := w.watchFor(t, time.Second); dec != nil {
		t.Fatalf("fired while healthy: %+v", dec)
	}
	restart := func(outage time.Duration) {
		t.Helper()
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		if dec := w.watchFor(t, outage); dec != nil && outage < 3*time.Second {
			t.Fatalf("fired during a %s outage: %+v", outage, dec)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	restart(time.Second)
	if dec := w.watchFor(t, 4*time.Second); dec != nil {
		t.Fatalf("a 1s outage fired the 3s trigger: %+v", dec)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	dec := w.watchFor(t, 8*time.Second)
	firedAfter := time.Since(down)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if dec == nil {
		t.Fatal("a long outage did not fire the 3s trigger within 8s")
	}
	t.Logf("1s outage: no trigger; long outage: %s fired after %s (held %.1fs)", dec.Criterion, firedAfter.Round(100*time.Millisecond), dec.HeldS)
	if firedAfter < 3*time.Second || dec.HeldS < 3 {
		t.Errorf("fired after %s, held %.1fs: before its 3s window", firedAfter, dec.HeldS)
	}
}
