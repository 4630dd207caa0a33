package reliability

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/loadgen"
)

// saturate holds every connection of ledgerd's pool with pg_sleep until the
// returned release is called.
func saturate(t *testing.T, ld *ledgerdtest.Instance, n int) (release func()) {
	t.Helper()
	p := ld.Server.Pool()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = p.Exec(ctx, "SELECT pg_sleep(30)") // cancelled at release
		}()
	}
	eventually(t, 10*time.Second, "every connection busy", func() bool { return p.Stats().Acquired == n })
	return func() { cancel(); wg.Wait() }
}

func openLoad(t *testing.T, url string, rate float64, d time.Duration) *loadgen.Report {
	t.Helper()
	target, err := loadgen.NewHTTPTarget(loadgen.HTTPRequest{URL: url}, loadgen.NewHTTPClient(64))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := loadgen.Constant(rate)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	rep, err := loadgen.Run(ctx, loadgen.Config{Schedule: sched, Warmup: time.Second, Duration: d, Timeout: 5 * time.Second, MaxInflight: 256}, target)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// p99Attempts is how many 4 s measurements a path gets to meet the 5 ms
// p99 goal. On a shared 2-core machine a neighbour's compile or test burst
// stalls the process for tens of milliseconds, and at 1,000 requests per
// second two such stalls in 4 s make the p99; a server that is itself too
// slow (the uncached /metrics: about 1 ms of CPU per scrape) misses the goal
// in every attempt.
const p99Attempts = 3

// TestProbesFastWhilePoolSaturated holds every connection of a ledgerd pool
// (max 4) with pg_sleep and sends 1,000 requests per second (open model,
// 1 s warm-up + 4 s) to /healthz and then to /metrics: no error, and a
// service p99 far below DB_POOL_CONNECTION_TIMEOUT (2 s), i.e. no request
// waited for a connection. Both must also keep their p99 under 5 ms (best
// of p99Attempts): /metrics is served from a gather at most 1 s old,
// refreshed in the background, so a scrape costs a few microseconds of CPU
// (httpapi.BenchmarkMetricsScrape); /healthz reuses a database ping at most
// 1 s old, refreshed in the background once it is half that, so no probe
// waits for the database round trip while probes keep coming. Under -race
// the rate is 50/s and no 5 ms goal is asserted (unless
// POOLPILOT_STRICT_P99=1).
func TestProbesFastWhilePoolSaturated(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{Env: map[string]string{"DB_POOL_MAX": "4", "DB_POOL_MIN": "4", "DB_POOL_CONNECTION_TIMEOUT": "2s"}})
	release := saturate(t, ld, 4)
	defer release()
	rate := 1000.0
	if raceEnabled {
		rate = 50 // the race detector costs 5–10× CPU: only "no error, no wait" is checked
	}
	for _, path := range []string{"/healthz", "/metrics"} {
		strict := !raceEnabled || os.Getenv("POOLPILOT_STRICT_P99") == "1"
		var p99s []string
		for attempt := 1; ; attempt++ {
			rep := openLoad(t, ld.URL+path, rate, 4*time.Second)
			t.Logf("%s at %.0f/s with the pool saturated, attempt %d (load average %s): requests %d, errors %d, achieved %.0f/s, latency p50 %.2fms p99 %.2fms max %.2fms; service p99 %.2fms; late %d dropped %d",
				path, rate, attempt, loadAverage(), rep.Requests, rep.Errors, rep.AchievedRate, rep.LatencyMS.P50, rep.LatencyMS.P99, rep.LatencyMS.Max, rep.ServiceMS.P99, rep.Late, rep.Dropped)
			if rep.Errors != 0 || rep.Dropped != 0 {
				t.Errorf("%s: %d errors, %d dropped: %v", path, rep.Errors, rep.Dropped, rep.ErrorSamples)
			}
			// A probe that waited for a connection takes the 2 s timeout;
			// 500 ms leaves room for a loaded machine's stalls.
			if rep.ServiceMS.P99 > 500 {
				t.Errorf("%s: service p99 %.2fms: a probe waited (for a connection?)", path, rep.ServiceMS.P99)
			}
			p99s = append(p99s, fmt.Sprintf("%.2fms", rep.LatencyMS.P99))
			if !strict || rep.LatencyMS.P99 < 5 {
				break
			}
			if attempt == p99Attempts {
				t.Errorf("%s: p99 %s in %d attempts at %.0f/s (load average %s), goal < 5ms", path, strings.Join(p99s, ", "), attempt, rate, loadAverage())
				break
			}
		}
	}
	if st := ld.Server.Pool().Stats(); st.Acquired != 4 {
		t.Errorf("pool not saturated during the run: acquired %d", st.Acquired)
	}
}

// loadAverage is the machine's 1-minute load average, for the log: the
// latency tail of a 2-core machine follows it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
