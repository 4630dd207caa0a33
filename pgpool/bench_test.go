package pgpool

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// BenchmarkAcquireRelease compares bare pgxpool with the instrumented pool
// on the same database in the same run: acquire+release serially, with
// parallel callers (4 per GOMAXPROCS), and with a trivial query. Both pools
// have max 8 and are warmed up first.
//
//	go test -run XXX -bench AcquireRelease -count 6 ./pgpool/ | tee bench.txt
//	benchstat -col /impl bench.txt
//
// Besides wall time (sec/op) each sub-benchmark reports cpu-ns/op, the
// process CPU time per operation, which a loaded shared machine disturbs far
// less.
func BenchmarkAcquireRelease(b *testing.B) {
	ctx := context.Background()
	bare, inst := benchPools(b)

	impls := []benchImpl{
		{"pgxpool", func() (func(), error) {
			c, err := bare.Acquire(ctx)
			if err != nil {
				return nil, err
			}
			return c.Release, nil
		}, func() error { _, err := bare.Exec(ctx, "select 1"); return err }},
		{"poolpilot", func() (func(), error) {
			c, err := inst.Acquire(ctx)
			if err != nil {
				return nil, err
			}
			return c.Release, nil
		}, func() error { _, err := inst.Exec(ctx, "select 1"); return err }},
	}
	for _, mode := range []string{"serial", "parallel", "query"} {
		for _, im := range impls {
			b.Run("mode="+mode+"/impl="+im.name, func(b *testing.B) { runBench(b, mode, im) })
		}
	}
}

type benchImpl struct {
	name    string
	acquire func() (release func(), err error)
	query   func() error
}

func runBench(b *testing.B, mode string, im benchImpl) {
	var ops atomic.Int64
	cpu0 := cpuTime()
	defer func() { reportCPU(b, cpu0, ops.Load()) }()
	switch mode {
	case "serial":
		for b.Loop() {
			rel, err := im.acquire()
			if err != nil {
				b.Fatal(err)
			}
			rel()
			ops.Add(1)
		}
	case "parallel":
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			n := int64(0)
			defer func() { ops.Add(n) }()
			for pb.Next() {
				rel, err := im.acquire()
				if err != nil {
					b.Error(err)
					return
				}
				rel()
				n++
			}
		})
	case "query":
		for b.Loop() {
			if err := im.query(); err != nil {
				b.Fatal(err)
			}
			ops.Add(1)
		}
	}
}

// warm opens every connection of both pools so that no dial lands in the
// measured loops.
// benchPools opens a bare pgxpool and an instrumented pool, 8 connections
// each, on a fresh database, both warmed; they close when b ends.
func benchPools(b *testing.B) (*pgxpool.Pool, *Pool) {
	dsn := pgtest.NewDatabase(b)
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	pc.MaxConns = 8
	bare, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bare.Close)
	inst := openTest(b, testConfig(b, dsn, 8, 0), Options{AppName: "pgpool-bench"})
	warm(b, bare, inst)
	return bare, inst
}

func warm(b *testing.B, bare *pgxpool.Pool, inst *Pool) {
	ctx := context.Background()
	var held []func()
	for range 8 {
		c, err := bare.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		held = append(held, c.Release)
		d, err := inst.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		held = append(held, d.Release)
	}
	for _, r := range held {
		r()
	}
}

// cpuTime is the process's user+system CPU time. Reported per op as
// cpu-ns/op, it is far less disturbed than wall time by other processes on a
// shared machine (it excludes time spent waiting for a core).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration, ops int64) {
	if ops > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(ops), "cpu-ns/op")
	}
}

// BenchmarkHandles measures the calls that hand out a handle (QueryRow+Scan,
// Query+Next+Close, Begin+Exec+Commit with a deferred Rollback) on bare
// pgxpool and on the instrumented pool, mainly for allocations per call:
//
//	go test -run XXX -bench Handles -benchmem -count 3 ./pgpool/
func BenchmarkHandles(b *testing.B) {
	ctx := context.Background()
	bare, inst := benchPools(b)
	type querier interface {
		QueryRow(context.Context, string, ...any) Row
		Query(context.Context, string, ...any) (Rows, error)
		Begin(context.Context) (Tx, error)
	}
	for _, op := range []string{"queryrow", "query", "tx"} {
		for _, im := range []struct {
			name string
			q    querier
		}{{"pgxpool", bare}, {"poolpilot", inst}} {
			b.Run("op="+op+"/impl="+im.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := handleOp(ctx, im.q, op); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func handleOp(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) Row
	Query(context.Context, string, ...any) (Rows, error)
	Begin(context.Context) (Tx, error)
}, op string) error {
	var n int
	switch op {
	case "queryrow":
		return q.QueryRow(ctx, "select 1").Scan(&n)
	case "query":
		rows, err := q.Query(ctx, "select 1")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&n); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	tx, err := q.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "select 1"); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
