// Command poolloop is the benchmarks' ceiling for a Go client: C goroutines
// running one statement back to back through pgpool, with no load generator
// around them (no scheduling, no histograms). Comparing it with
// `poolpilot load sql --concurrency C` isolates the generator's own cost;
// comparing it with pgbench isolates the driver's.
//
//	poolloop -url postgres://… -c 8 -d 10s -query 'select 1'
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/poolpilot/poolpilot/pgpool"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "poolloop:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", "", "PostgreSQL URL")
	conc := flag.Int("c", 1, "goroutines (and pool max)")
	dur := flag.Duration("d", 10*time.Second, "duration")
	query := flag.String("query", "select 1", "statement")
	flag.Parse()
	ctx := context.Background()
	cfg := pgpool.Config{PoolConfig: pgpool.DefaultPoolConfig(), DatabaseURL: *url}
	cfg.Max, cfg.Min = *conc, min(*conc, cfg.Min)
	pool, err := pgpool.Open(ctx, cfg, pgpool.Options{AppName: "poolloop"})
	if err != nil {
		return err
	}
	defer pool.Close()
	var n, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(*dur)
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if _, err := pool.Exec(ctx, *query); err != nil {
					errs.Add(1)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("tps=%.1f requests=%d errors=%d\n", float64(n.Load())/time.Since(start).Seconds(), n.Load(), errs.Load())
	return nil
}
