package pgpool

import (
	"context"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// filledPool opens a pool whose statistics window holds waits in every slot
// and whose cumulative counts include retired slots, so the scans below read
// populated buckets, as they do in a pool that has been serving for a while.
func filledPool(tb testing.TB) (*Pool, *fakeClock) {
	tb.Helper()
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := openTest(tb, testConfig(tb, pgtest.NewDatabase(tb), 4, 0), Options{Clock: clk, Window: 12 * time.Second})
	ctx := context.Background()
	for range 2 * windowSlots { // two windows: half the slots retired once
		for range 20 {
			if _, err := p.Exec(ctx, "select 1"); err != nil {
				tb.Fatal(err)
			}
		}
		clk.Add(time.Second)
	}
	return p, clk
}

// BenchmarkStatsScan measures what one /metrics gather pays the pool:
// "stats" is Stats() alone (what /healthz pays), "histogram" is
// AcquireWaitHistogram() alone, "separate" is both in turn (what the
// collector paid before), "combined" is StatsAndWaitHistogram (what it pays
// now: one read of the window).
//
//	go test -run '^$' -bench BenchmarkStatsScan -benchmem -count 6 ./pgpool/
func BenchmarkStatsScan(b *testing.B) {
	p, _ := filledPool(b)
	b.Run("stats", func(b *testing.B) {
		for b.Loop() {
			_ = p.Stats()
		}
	})
	b.Run("histogram", func(b *testing.B) {
		for b.Loop() {
			_ = p.AcquireWaitHistogram()
		}
	})
	b.Run("separate", func(b *testing.B) {
		for b.Loop() {
			_ = p.Stats()
			_ = p.AcquireWaitHistogram()
		}
	})
	b.Run("combined", func(b *testing.B) {
		for b.Loop() {
			_, _ = p.StatsAndWaitHistogram()
		}
	})
}
