package pgpool

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgtest"
)

func TestBucketBounds(t *testing.T) {
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 1000, 123456, 1 << 30, 5e9, 1 << 40} {
		i := bucketOf(v)
		low, width := bucketBounds(i)
		if v < low || v >= low+width {
			t.Errorf("value %d in bucket %d [%d, %d)", v, i, low, low+width)
		}
		if v >= subCount && float64(width)/float64(low) > 1.0/subCount+1e-9 {
			t.Errorf("bucket %d too wide: %d at %d", i, width, low)
		}
	}
	if bucketOf(math.MaxInt64) != numBuckets-1 || bucketOf(-5) != 0 {
		t.Error("out-of-range values must clamp")
	}
}

func TestQuantileAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h histogram
	vals := make([]int64, 20000)
	for i := range vals {
		vals[i] = int64(math.Exp(r.Float64()*14) * 1000) // 1µs … 1.2s, log-uniform
		h.record(vals[i])
	}
	slices.Sort(vals)
	var s snapshot
	s.add(&h)
	for _, q := range []float64{0.5, 0.95, 0.99} {
		exact := float64(vals[int(q*float64(len(vals)))-1]) / 1e6
		got := s.quantile(q, 0)
		if math.Abs(got-exact)/exact > 0.02 {
			t.Errorf("p%.0f = %.4fms, exact %.4fms", q*100, got, exact)
		}
	}
	// extra zeros shift the quantiles down.
	if got := s.quantile(0.5, 20000); got != 0 {
		t.Errorf("with as many zeros as values the median is 0, got %v", got)
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestWindowSlides uses an injected clock: waits recorded more than a window
// ago leave the percentiles and churn but stay in the cumulative counts.
func TestWindowSlides(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := openTest(t, testConfig(t, pgtest.NewDatabase(t), 2, 0), Options{Clock: clk, Window: 10 * time.Second})
	ctx := context.Background()
	for range 5 {
		if _, err := p.Exec(ctx, "select 1"); err != nil {
			t.Fatal(err)
		}
	}
	s := p.Stats()
	if s.WaitP50MS <= 0 || s.Churn <= 0 || s.WindowSeconds != 10 {
		t.Fatalf("fresh window: %+v", s)
	}
	clk.Add(5 * time.Second)
	if s := p.Stats(); s.WaitP50MS <= 0 {
		t.Fatalf("half a window later the waits must still count: %+v", s)
	}
	clk.Add(6 * time.Second)
	s = p.Stats()
	if s.WaitP50MS != 0 || s.WaitP99MS != 0 || s.Churn != 0 {
		t.Errorf("after the window: p50 %v p99 %v churn %v, want 0", s.WaitP50MS, s.WaitP99MS, s.Churn)
	}
	if s.Acquires != 5 || p.AcquireWaitHistogram().Count != 5 {
		t.Errorf("cumulative acquires %d, want 5", s.Acquires)
	}
	if _, err := p.Exec(ctx, "select 1"); err != nil { // rotates a slot
		t.Fatal(err)
	}
	if s := p.Stats(); s.Acquires != 6 || s.WaitP50MS <= 0 || s.Churn != 0 {
		t.Errorf("after one more: %+v", s)
	}
}
