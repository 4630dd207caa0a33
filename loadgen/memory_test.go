package loadgen

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"
)

// envDuration reads a duration from the environment, or def.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: want a Go duration such as 10m", name, v)
	}
	return d
}

// heapDuring runs rate/s for d and returns the largest live heap (after a
// GC) seen in the second half of the run.
func heapDuring(t *testing.T, rate float64, d time.Duration) (uint64, *Report) {
	s, _ := Constant(rate)
	var peak uint64
	half := int(d.Seconds() / 2)
	rep, err := Run(context.Background(), Config{Schedule: s, Duration: d, OnSecond: func(sec Second) {
		if sec.T < max(half, 2) {
			return
		}
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapAlloc)
	}}, trivial)
	if err != nil {
		t.Fatal(err)
	}
	return peak, rep
}

// TestMemoryFlatWithDuration: a long run holds no more live heap than a
// short one, ±10% (histograms, not samples). The figure is 10
// minutes against 1 minute at 1,000 rps:
//
//	POOLPILOT_MEMTEST_SHORT=1m POOLPILOT_MEMTEST_LONG=10m go test -run MemoryFlat -timeout 20m ./loadgen/
//
// The normal suite runs 3 s against 12 s.
func TestMemoryFlatWithDuration(t *testing.T) {
	short := envDuration(t, "POOLPILOT_MEMTEST_SHORT", 3*time.Second)
	long := envDuration(t, "POOLPILOT_MEMTEST_LONG", 12*time.Second)
	rate := 1000.0
	hs, rs := heapDuring(t, rate, short)
	hl, rl := heapDuring(t, rate, long)
	ratio := float64(hl) / float64(hs)
	t.Logf("%v: live heap %d B over %d requests; %v: %d B over %d requests; ratio %.3f",
		short, hs, rs.Requests, long, hl, rl.Requests, ratio)
	if rl.Requests < 5*rs.Requests/2 {
		t.Fatalf("the long run made %d requests against %d: not a longer run", rl.Requests, rs.Requests)
	}
	if ratio > 1.10 {
		t.Errorf("live heap grew %.1f%% from a %v run to a %v run; want at most 10%%", 100*(ratio-1), short, long)
	}
}
