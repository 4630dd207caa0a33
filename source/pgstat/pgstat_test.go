package pgstat

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

func open(t *testing.T, url, app string, max int) *pgpool.Pool {
	t.Helper()
	cfg := pgpool.Config{PoolConfig: poolpilot.PoolConfig{Max: max, Min: 0, IdleTimeout: 30 * time.Second, ConnectTimeout: 5 * time.Second, MaxLifetime: time.Hour, HealthCheckPeriod: time.Minute}, DatabaseURL: url}
	p, err := pgpool.Open(context.Background(), cfg, pgpool.Options{AppName: app})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

type found map[string][]poolpilot.Sample

func collect(t *testing.T, s *Source) found {
	t.Helper()
	ss, err := s.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := found{}
	for _, x := range ss {
		out[x.Metric] = append(out[x.Metric], x)
	}
	return out
}

func (f found) value(t *testing.T, metric, inst string) float64 {
	t.Helper()
	for _, s := range f[metric] {
		if s.Instance == inst {
			if s.Gap {
				t.Fatalf("%s{%s} is a gap: %s", metric, inst, s.Reason)
			}
			return s.Value
		}
	}
	t.Fatalf("no %s{%s} in %v", metric, inst, f[metric])
	return 0
}

// waitFor collects until cond holds, for at most 10 s.
func waitFor(t *testing.T, s *Source, what string, cond func(found) bool) found {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f := collect(t, s)
		if cond(f) {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within 10s; last %+v", what, f)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestActivityLocksAndSettings(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	mon := open(t, url, "pp-monitor", 2)
	app := open(t, url, "pgstat-test-app", 5)
	src := New(mon, Options{})
	if _, err := app.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0), (2, 0)"); err != nil {
		t.Fatal(err)
	}
	f := collect(t, src)
	if v := f.value(t, "db.max_connections", "db"); v != 400 {
		t.Fatalf("max_connections %v, want the shared cluster's 400", v)
	}
	if v := f.value(t, "db.reserved_connections", "db"); v != 3 {
		t.Fatalf("reserved %v, want 3 (superuser_reserved_connections default)", v)
	}
	for _, m := range []string{"db.commits_per_s", "db.deadlocks"} {
		if s := f[m][0]; !s.Gap {
			t.Fatalf("%s on the first poll: %+v, want a gap", m, s)
		}
	}

	// One transaction holds a row lock; another waits for it.
	tx, err := app.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "UPDATE t SET v = 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := app.Exec(ctx, "UPDATE t SET v = 2 WHERE id = 1"); done <- err }()
	f = waitFor(t, src, "a client waiting on a lock", func(f found) bool {
		return len(f["db.waiting_on_locks"]) > 0 && !f["db.waiting_on_locks"][0].Gap && f["db.waiting_on_locks"][0].Value >= 1
	})
	if n := f.value(t, "db.connections_by_app", "pgstat-test-app"); n != 2 {
		t.Fatalf("connections of pgstat-test-app: %v, want 2", n)
	}
	if n := f.value(t, "db.connections.idle_in_transaction", "db"); n < 1 {
		t.Fatalf("idle in transaction %v, want ≥ 1", n)
	}
	total := f.value(t, "db.connections", "db")
	if free := f.value(t, "db.connections_free", "db"); free != 400-3-total {
		t.Fatalf("free %v with %v connections", free, total)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if _, err := app.Exec(ctx, "UPDATE t SET v = v + 1 WHERE id = 2"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, src, "commits per second", func(f found) bool {
		s := f["db.commits_per_s"][0]
		return !s.Gap && s.Value > 0
	})
}

func TestDeadlockRate(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	mon := open(t, url, "pp-monitor", 2)
	app := open(t, url, "pgstat-deadlock", 4)
	src := New(mon, Options{})
	if _, err := app.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0), (2, 0)"); err != nil {
		t.Fatal(err)
	}
	collect(t, src)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	start := make(chan struct{})
	held := make(chan struct{}, 2)
	for _, order := range [][2]int{{1, 2}, {2, 1}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx, err := app.Begin(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, "UPDATE t SET v = v + 1 WHERE id = $1", order[0]); err != nil {
				errs <- err
				held <- struct{}{}
				return
			}
			held <- struct{}{}
			<-start
			if _, err := tx.Exec(ctx, "UPDATE t SET v = v + 1 WHERE id = $1", order[1]); err != nil {
				errs <- err
				return
			}
			errs <- tx.Commit(ctx)
		}()
	}
	// Let both hold their first row, then cross.
	<-held
	<-held
	close(start)
	wg.Wait()
	close(errs)
	deadlocked := 0
	for err := range errs {
		var pe *pgpool.PgError
		if errors.As(err, &pe) && pe.Code == "40P01" {
			deadlocked++
		} else if err != nil && !strings.Contains(err.Error(), "40P01") {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if deadlocked != 1 {
		t.Fatalf("%d deadlock errors, want 1", deadlocked)
	}
	waitFor(t, src, "the deadlock in pg_stat_database", func(f found) bool {
		s := f["db.deadlocks"][0]
		return !s.Gap && s.Value > 0
	})
}

func TestQueryFailureIsAGap(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{})
	mon := open(t, srv.URL("postgres"), "pp-monitor", 1)
	src := New(mon, Options{Timeout: time.Second})
	collect(t, src)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	f := collect(t, src)
	for _, m := range metrics {
		if m == "db.connections_by_app" {
			continue
		}
		if len(f[m]) != 1 || !f[m][0].Gap || f[m][0].Reason == "" {
			t.Fatalf("%s with the server down: %+v, want one gap", m, f[m])
		}
	}
}
