package pgpool

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// refWaitHistogram is AcquireWaitHistogram's fold as it was before the
// one-pass waitHistogram: one scan of the buckets per bound.
func refWaitHistogram(cum *[numBuckets]uint64) poolpilot.Histogram {
	h := poolpilot.Histogram{Buckets: make(map[float64]uint64, len(WaitBucketsSeconds))}
	var sumNs float64
	for i, n := range cum {
		if n == 0 {
			continue
		}
		low, width := bucketBounds(i)
		h.Count += n
		sumNs += float64(n) * (float64(low) + float64(width-1)/2)
	}
	h.SumSeconds = sumNs / float64(time.Second)
	for _, b := range WaitBucketsSeconds {
		limit := int64(b * float64(time.Second))
		var c uint64
		for i, n := range cum {
			if low, _ := bucketBounds(i); low >= limit {
				break
			}
			c += n
		}
		h.Buckets[b] = c
	}
	return h
}

// TestWaitHistogramOnePass checks the one-pass fold against the per-bound
// one, bit for bit, on empty, sparse, dense and edge-of-bound counts.
func TestWaitHistogramOnePass(t *testing.T) {
	if !slices.IsSorted(WaitBucketsSeconds) {
		t.Fatalf("WaitBucketsSeconds must ascend (waitHistogram folds them in one pass): %v", WaitBucketsSeconds)
	}
	r := rand.New(rand.NewPCG(3, 4))
	cases := map[string]*[numBuckets]uint64{"empty": {}}
	edges := &[numBuckets]uint64{}
	for _, b := range WaitBucketsSeconds {
		limit := int64(b * float64(time.Second))
		edges[bucketOf(limit-1)] += 3 // last bucket under the bound
		edges[bucketOf(limit)] += 5   // first bucket at or above it
	}
	edges[0], edges[numBuckets-1] = 7, 11
	cases["edges"] = edges
	for k := range 20 {
		c := &[numBuckets]uint64{}
		for range 1 + r.IntN(5000) {
			c[bucketOf(int64(r.ExpFloat64()*float64(time.Duration(1+k)*time.Millisecond)))] += uint64(1 + r.IntN(1000))
		}
		cases["random"+itoa(k)] = c
	}
	for name, c := range cases {
		got, want := waitHistogram(c), refWaitHistogram(c)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: one pass %+v\nper bound %+v", name, got, want)
		}
	}
	if h := waitHistogram(edges); h.Count == 0 || h.Buckets[WaitBucketsSeconds[0]] == 0 {
		t.Errorf("edges: the fold lost counts: %+v", h)
	}
}

// TestWindowReadCumulative records waits over several windows (so slots
// rotate and retire) and checks, at every step, that read with cum gives the
// same window statistics as read without it and the same counts as
// cumulative.
func TestWindowReadCumulative(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	w := newWindow(12 * time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var total uint64
	for step := range 60 {
		for range r.IntN(50) {
			s := w.at(now)
			s.wait[r.IntN(waitStripes)].record(int64(r.ExpFloat64() * 1e6))
			total++
			if r.IntN(3) == 0 {
				s.queue.record(int64(r.ExpFloat64() * 1e5))
				s.dial.record(int64(r.ExpFloat64() * 1e6))
				s.dials.Add(1)
			}
		}
		var cum [numBuckets]uint64
		got := w.read(now, &cum)
		want := w.read(now, nil)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: read with cum differs from read without", step)
		}
		wantCum, _, _ := w.cumulative()
		if cum != wantCum {
			t.Fatalf("step %d: cum from read differs from cumulative()", step)
		}
		if got.acquiresEver != total {
			t.Fatalf("step %d: acquiresEver %d, recorded %d", step, got.acquiresEver, total)
		}
		// Mostly one slot on, sometimes past a whole window.
		if r.IntN(8) == 0 {
			now += int64(15 * time.Second)
		} else {
			now += int64(time.Second)
		}
	}
	if w.retiredTotal == 0 || w.retiredTotal == total {
		t.Errorf("the test must cover both retired and live slots: retired %d of %d", w.retiredTotal, total)
	}
}

// TestStatsAndWaitHistogramMatch checks on a real pool that the combined
// read gives exactly what Stats and AcquireWaitHistogram give for the same
// window: fresh, half a window later, after the window rolled over, and
// after more acquires rotated a slot.
func TestStatsAndWaitHistogramMatch(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := openTest(t, testConfig(t, pgtest.NewDatabase(t), 2, 0), Options{Clock: clk, Window: 10 * time.Second})
	ctx := context.Background()
	exec := func(n int) {
		t.Helper()
		for range n {
			if _, err := p.Exec(ctx, "select 1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(when string, wantAcquires int64) {
		t.Helper()
		s, h := p.StatsAndWaitHistogram()
		if ws, wh := p.Stats(), p.AcquireWaitHistogram(); !reflect.DeepEqual(s, ws) || !reflect.DeepEqual(h, wh) {
			t.Errorf("%s: combined\n  %+v\n  %+v\nseparate\n  %+v\n  %+v", when, s, h, ws, wh)
		}
		if s.Acquires != wantAcquires || h.Count != uint64(wantAcquires) {
			t.Errorf("%s: acquires %d, histogram count %d, want %d", when, s.Acquires, h.Count, wantAcquires)
		}
	}
	exec(5)
	check("fresh", 5)
	clk.Add(5 * time.Second)
	exec(3)
	check("half a window later", 8)
	clk.Add(11 * time.Second)
	check("after the window", 8)
	if s := p.Stats(); s.WaitP50MS != 0 {
		t.Errorf("after the window p50 %v, want 0 (the first waits must have left)", s.WaitP50MS)
	}
	exec(4) // rotates a slot, retiring the first waits
	check("after a rotation", 12)
}
