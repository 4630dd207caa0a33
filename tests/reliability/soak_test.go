package reliability

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/loadgen"
)

// EnvSoak sets the duration of TestLedgerdSoak (a Go duration; default 20s).
const EnvSoak = "POOLPILOT_SOAK"

type memPoint struct {
	at          time.Duration
	rssKB       int64
	heapInuseMB float64
	goroutines  float64
}

func (m memPoint) String() string {
	return fmt.Sprintf("t=%s rss=%.1fMB heap_inuse=%.1fMB goroutines=%.0f", m.at.Round(time.Second), float64(m.rssKB)/1024, m.heapInuseMB, m.goroutines)
}

// sampleMem reads the ledgerd process's VmRSS and its Go heap and goroutine
// gauges from /metrics.
func sampleMem(t *testing.T, ld *ledgerdtest.Instance, since time.Time) memPoint {
	t.Helper()
	m := memPoint{at: time.Since(since)}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", ld.Cmd.Process.Pid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				m.rssKB, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	resp, err := client.Get(ld.URL + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "go_memstats_heap_inuse_bytes":
			m.heapInuseMB = v / (1 << 20)
		case "go_goroutines":
			m.goroutines = v
		}
	}
	return m
}

// TestLedgerdSoak runs the ledger workload (posts, balances, trial
// balances, isolation checks; every balance verified) against a ledgerd
// process at 200 requests per second for POOLPILOT_SOAK (default 20s) and
// checks: no error, no balance violation, and no growth of heap, RSS or
// goroutines between the first checkpoint after warm-up and the end.
func TestLedgerdSoak(t *testing.T) {
	d := 20 * time.Second
	if v := os.Getenv(EnvSoak); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d < 5*time.Second || d > 2*time.Hour {
			t.Fatalf("%s=%q: want a Go duration between 5s and 2h", EnvSoak, v)
		}
	}
	ld := ledgerdtest.Start(t, ledgerdtest.Options{Process: true, Env: map[string]string{"DB_POOL_MAX": "8", "DB_POOL_MIN": "2"}})
	api, err := loadgen.NewLedgerHTTP(ld.URL, loadgen.NewHTTPClient(64))
	if err != nil {
		t.Fatal(err)
	}
	w, err := loadgen.NewLedgerWorkload(api, loadgen.LedgerOptions{Tenants: 20, Seed: 10})
	if err != nil {
		t.Fatal(err)
	}
	sched, _ := loadgen.Constant(200)
	start := time.Now()
	var points []memPoint
	every := max(d/10, 2*time.Second)
	next := time.Second * 3
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	rep, err := loadgen.Run(ctx, loadgen.Config{
		Schedule: sched, Warmup: 2 * time.Second, Duration: d, Timeout: 5 * time.Second,
		OnSecond: func(loadgen.Second) {
			if time.Since(start) >= next {
				next += every
				points = append(points, sampleMem(t, ld, start))
			}
		},
	}, w)
	if err != nil {
		t.Fatal(err)
	}
	points = append(points, sampleMem(t, ld, start))
	for _, p := range points {
		t.Log(p)
	}
	t.Logf("soak %s at 200/s: requests %d, errors %d, violations %d, p99 %.2fms, late %d, dropped %d", d, rep.Requests, rep.Errors, rep.Violations, rep.LatencyMS.P99, rep.Late, rep.Dropped)
	if rep.Errors != 0 || rep.Violations != 0 || rep.Dropped != 0 {
		t.Errorf("soak: %d errors, %d violations, %d dropped: %v %v", rep.Errors, rep.Violations, rep.Dropped, rep.ErrorSamples, rep.ViolationSamples)
	}
	if len(points) < 2 {
		t.Fatalf("only %d memory samples", len(points))
	}
	first, last := points[0], points[len(points)-1]
	if last.heapInuseMB > 2*first.heapInuseMB+8 {
		t.Errorf("heap grew from %.1fMB to %.1fMB", first.heapInuseMB, last.heapInuseMB)
	}
	if last.rssKB > 2*first.rssKB+32<<10 {
		t.Errorf("RSS grew from %dKB to %dKB", first.rssKB, last.rssKB)
	}
	if last.goroutines > first.goroutines+20 {
		t.Errorf("goroutines grew from %.0f to %.0f", first.goroutines, last.goroutines)
	}
}
