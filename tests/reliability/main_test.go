package reliability

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMain(m *testing.M) {
	zerolog.SetGlobalLevel(zerolog.WarnLevel) // toxiproxy's toxics trace to the global logger
	pgtest.RunMain(m)
}

var appSeq atomic.Int64

// openPool opens a pgpool on dsn with the given env settings on top of
// small defaults and a unique application_name; it is closed at cleanup.
func openPool(t *testing.T, dsn string, env map[string]string) (*pgpool.Pool, string) {
	t.Helper()
	all := map[string]string{
		pgpool.EnvDatabaseURL: dsn, pgpool.EnvMax: "4", pgpool.EnvMin: "0",
		pgpool.EnvConnectionTimeout: "1s", pgpool.EnvHealthCheckPeriod: "500ms",
	}
	for k, v := range env {
		all[k] = v
	}
	cfg, err := pgpool.LoadConfig(func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	app := fmt.Sprintf("reliability_%d", appSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := pgpool.Open(ctx, cfg, pgpool.Options{AppName: app, Window: 10 * time.Second})
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(p.Close)
	return p, app
}

// backends counts the server connections whose application_name is app,
// seen from a separate connection.
func backends(t *testing.T, admin, app string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("admin connect: %v", err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
		t.Fatalf("pg_stat_activity: %v", err)
	}
	return n
}

// eventually polls cond every 20ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// load runs workers that each run "SELECT 1" (every op bounded by opTimeout)
// until stop is closed; it returns the op and error counts and the slowest op.
type loadResult struct {
	ops, errs atomic.Int64
	slowest   atomic.Int64 // nanoseconds
}

func runLoad(p *pgpool.Pool, workers int, opTimeout time.Duration, stop <-chan struct{}, sql string) (*loadResult, <-chan struct{}) {
	r := &loadResult{}
	done := make(chan struct{})
	var live atomic.Int64
	live.Store(int64(workers))
	for range workers {
		go func() {
			defer func() {
				if live.Add(-1) == 0 {
					close(done)
				}
			}()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
				t0 := time.Now()
				_, err := p.Exec(ctx, sql)
				cancel()
				el := int64(time.Since(t0))
				for {
					s := r.slowest.Load()
					if el <= s || r.slowest.CompareAndSwap(s, el) {
						break
					}
				}
				r.ops.Add(1)
				if err != nil {
					r.errs.Add(1)
					time.Sleep(5 * time.Millisecond) // do not spin on a down server
				}
			}
		}()
	}
	return r, done
}
