package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
)

// realPoolServer is a Server over a real pgpool (max 4, min 4) on a fresh
// database of the test PostgreSQL.
func realPoolServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(tb), "DB_POOL_MAX": "4", "DB_POOL_MIN": "4"}
	cfg, err := pgpool.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatalf("LoadConfig: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := pgpool.Open(ctx, cfg, pgpool.Options{AppName: "httpapi-bench"})
	if err != nil {
		tb.Fatalf("pgpool.Open: %v", err)
	}
	tb.Cleanup(p.Close)
	opts.Pool = p
	return New(opts)
}

// BenchmarkMetricsScrape serves one GET /metrics per iteration from a Server
// over a real pgpool on the test PostgreSQL, without the metrics cache (every
// scrape gathers) and with it (the default 1 s TTL), as plain text and
// gzipped (Go's HTTP client and Prometheus ask for gzip); "gather" is one
// Registry.Gather alone. cpu-ns/op is the process's user+system CPU time per
// scrape (the registry gathers collectors in parallel goroutines, so it can
// exceed ns/op).
//
//	go test -run '^$' -bench BenchmarkMetricsScrape -cpuprofile cpu.out ./httpapi/
func BenchmarkMetricsScrape(b *testing.B) {
	for _, mode := range []struct {
		name string
		ttl  time.Duration
	}{{"uncached", -1}, {"cached", 0}} {
		srv := realPoolServer(b, Options{MetricsCacheTTL: mode.ttl})
		h := srv.Handler()
		for _, enc := range []string{"identity", "gzip"} {
			b.Run(mode.name+"/"+enc, func(b *testing.B) {
				r := httptest.NewRequest("GET", PathMetrics, nil)
				r.Header.Set("Accept-Encoding", enc)
				cpu := startCPU(b)
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
				cpu.report(b)
			})
		}
		if mode.ttl < 0 {
			b.Run("gather", func(b *testing.B) {
				cpu := startCPU(b)
				for b.Loop() {
					if _, err := srv.Registry().Gather(); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
		if err := srv.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuClock measures the process's CPU time across a benchmark loop.
type cpuClock struct{ start time.Duration }

func startCPU(b *testing.B) cpuClock {
	b.ReportAllocs()
	return cpuClock{processCPU(b)}
}

func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(processCPU(b)-c.start)/float64(b.N), "cpu-ns/op")
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
