package hostcpu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

func writeStat(t *testing.T, dir string, pid, ppid int, comm string, ut, st, cut, cst int) {
	t.Helper()
	d := filepath.Join(dir, strconv.Itoa(pid))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("%d (%s) S %d 1 1 0 -1 4194560 100 0 0 0 %d %d %d %d 20 0 1 0 100 1000 10\n", pid, comm, ppid, ut, st, cut, cst)
	if err := os.WriteFile(filepath.Join(d, "stat"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTreeTicks(t *testing.T) {
	proc := t.TempDir()
	writeStat(t, proc, 100, 1, "postgres", 10, 5, 1000, 500) // postmaster, with reaped children
	writeStat(t, proc, 101, 100, "postgres: checkpointer ", 3, 2, 0, 0)
	writeStat(t, proc, 102, 100, "weird) (name", 40, 10, 0, 0)
	writeStat(t, proc, 103, 102, "grandchild", 1, 1, 0, 0)
	writeStat(t, proc, 200, 1, "other", 999, 999, 0, 0) // not in the tree
	os.MkdirAll(filepath.Join(proc, "self"), 0o755)
	got, err := TreeTicks(proc, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(10 + 5 + 1000 + 500 + 3 + 2 + 40 + 10 + 1 + 1); got != want {
		t.Fatalf("ticks %d, want %d", got, want)
	}
	if _, err := TreeTicks(proc, 999); err == nil || !strings.Contains(err.Error(), "postmaster pid 999") {
		t.Fatalf("missing root: %v", err)
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func TestRateFromFakeProc(t *testing.T) {
	proc := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	writeStat(t, proc, 100, 1, "postgres", 0, 0, 0, 0)
	s, _ := New(100, Options{Proc: proc, Cores: 4, Clock: clk})
	ss, _ := s.Collect(context.Background())
	if !ss[0].Gap {
		t.Fatalf("first reading %+v, want a gap", ss[0])
	}
	writeStat(t, proc, 100, 1, "postgres", 150, 50, 100, 0) // +300 ticks = 3 CPU-seconds
	clk.t = clk.t.Add(time.Second)
	ss, _ = s.Collect(context.Background())
	if ss[0].Gap || ss[0].Value != 0.75 || ss[0].Metric != "db.cpu" || ss[0].Instance != "db" {
		t.Fatalf("reading %+v, want 3 CPU-s in 1 s on 4 cores = 0.75", ss[0])
	}
	os.RemoveAll(filepath.Join(proc, "100"))
	clk.t = clk.t.Add(time.Second)
	if ss, _ = s.Collect(context.Background()); !ss[0].Gap || !strings.Contains(ss[0].Reason, "postmaster pid 100") {
		t.Fatalf("gone: %+v", ss[0])
	}
}

// TestBusyBackendRaisesCPU runs a busy loop inside a backend of a real
// PostgreSQL and checks that db.cpu rises well above its idle reading.
func TestBusyBackendRaisesCPU(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.New(t, pgtest.Options{})
	cfg := pgpool.Config{PoolConfig: poolpilot.PoolConfig{Max: 3, IdleTimeout: time.Minute, ConnectTimeout: 5 * time.Second, MaxLifetime: time.Hour, HealthCheckPeriod: time.Minute}, DatabaseURL: srv.URL("postgres")}
	pool, err := pgpool.Open(ctx, cfg, pgpool.Options{AppName: "hostcpu-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	pid, err := FindPostmaster(ctx, pool, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(srv.Dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0]); pid != want {
		t.Fatalf("FindPostmaster %d, postmaster.pid says %d", pid, want)
	}
	src, err := New(pid, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cores := float64(src.opts.Cores)
	read := func() float64 {
		ss, err := src.Collect(ctx)
		if err != nil || len(ss) != 1 {
			t.Fatalf("collect: %v %v", ss, err)
		}
		if ss[0].Gap {
			return -1
		}
		return ss[0].Value * cores // in cores
	}
	read()
	idle := waitReading(t, read, func(v float64) bool { return v >= 0 })

	busy := make(chan error, 1)
	go func() {
		_, err := pool.Exec(ctx, `DO $$DECLARE t timestamptz := clock_timestamp();
BEGIN WHILE clock_timestamp() < t + interval '3 s' LOOP END LOOP; END$$`)
		busy <- err
	}()
	peak := waitReading(t, read, func(v float64) bool { return v >= 0.2 && v > idle+0.15 })
	t.Logf("db.cpu idle %.3f cores, busy %.3f cores (of %v)", idle, peak, cores)
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
}

// waitReading reads every 250 ms until ok holds, for at most 3 s.
func waitReading(t *testing.T, read func() float64, ok func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := -1.0
	for time.Now().Before(deadline) {
		<-tick.C
		if last = read(); ok(last) {
			return last
		}
	}
	t.Fatalf("no satisfying CPU reading within 3 s (last %.3f cores)", last)
	return 0
}
