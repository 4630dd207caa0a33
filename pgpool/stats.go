package pgpool

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/poolpilot/poolpilot"
)

// closeReason says why the pool closed a connection.
type closeReason int

const (
	reasonIdle     closeReason = iota // idle longer than DB_POOL_IDLE_TIMEOUT, above min
	reasonLifetime                    // older than DB_POOL_MAX_LIFETIME
	reasonBroken                      // returned dead, busy or inside a transaction
	reasonResize                      // above max after a shrink
	reasonShutdown                    // the pool was closed
	numReasons
)

var reasonNames = [numReasons]string{"idle", "lifetime", "broken", "resize", "shutdown"}

type closeCounts [numReasons]atomic.Int64

func (c *closeCounts) add(r closeReason) { c[r].Add(1) }

// Stats returns a snapshot of the pool. It never waits for a connection;
// it reads atomics, pgxpool's counters and the window's histograms.
func (p *Pool) Stats() poolpilot.PoolStats { return p.stats(nil) }

// StatsAndWaitHistogram returns what Stats and AcquireWaitHistogram return,
// from one pass over the statistics window instead of two: each of them
// reads every slot's wait histograms (about 0.1 ms), and the /metrics
// collector needs both on every gather. Both results come from the same
// instant, so the histogram's Count equals the stats' Acquires.
func (p *Pool) StatsAndWaitHistogram() (poolpilot.PoolStats, poolpilot.Histogram) {
	var cum [numBuckets]uint64
	s := p.stats(&cum)
	return s, waitHistogram(&cum)
}

// stats is Stats; when cum is not nil it also fills cum with the cumulative
// wait counts, from the same read of the window.
func (p *Pool) stats(cum *[numBuckets]uint64) poolpilot.PoolStats {
	cfg := p.Config()
	st := p.inner.Stat()
	now := p.now()
	ws := p.win.read(now.UnixNano(), cum)
	nWait, oldest := p.gate.queued()
	s := poolpilot.PoolStats{
		Max: cfg.Max, Min: cfg.Min,
		IdleTimeoutMS: cfg.IdleTimeout.Milliseconds(), ConnectionTimeoutMS: cfg.ConnectTimeout.Milliseconds(),
		MaxLifetimeMS: cfg.MaxLifetime.Milliseconds(), HealthCheckPeriodMS: cfg.HealthCheckPeriod.Milliseconds(),
		Pooler: cfg.Pooler, QueryMode: p.QueryMode(), Source: cfg.Source,

		Total: int(st.TotalConns()), Acquired: int(st.AcquiredConns()), Idle: int(st.IdleConns()),
		Constructing: int(st.ConstructingConns()), Waiting: nWait,

		WaitP50MS: ws.wait.quantile(0.50, 0), WaitP95MS: ws.wait.quantile(0.95, 0), WaitP99MS: ws.wait.quantile(0.99, 0),
		QueueP95MS: ws.queue.quantile(0.95, ws.wait.total-min(ws.queue.total, ws.wait.total)),
		DialP95MS:  ws.dial.quantile(0.95, 0),

		Acquires: int64(ws.acquiresEver), AcquireTimeouts: p.acquireTimeouts.Load(), AcquireCancels: p.acquireCancels.Load(),
		ServerRefusals: p.refusals.Load(), Opened: p.opened.Load(),
		ClosedByReason: map[string]int64{},
		WindowSeconds:  p.winDur.Seconds(),
		Resizes:        p.resizes.Load(),
	}
	if !oldest.IsZero() {
		s.OldestWaitMS = round3(float64(time.Since(oldest)) / float64(time.Millisecond))
	}
	if cfg.Max > 0 {
		s.Utilization = round3(float64(s.Acquired) / float64(cfg.Max))
	}
	if ws.wait.total > 0 {
		s.Churn = round3(float64(ws.dials) / float64(ws.wait.total))
	}
	for r := range numReasons {
		n := p.closed[r].Load()
		s.Closed += n
		if n > 0 {
			s.ClosedByReason[reasonNames[r]] = n
		}
	}
	return s
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// WaitBucketsSeconds are the upper bounds of AcquireWaitHistogram.
var WaitBucketsSeconds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// AcquireWaitHistogram returns the cumulative histogram of acquire waits
// since the pool opened (successful acquires only), with the upper bounds
// WaitBucketsSeconds. It is derived from the log-linear buckets: a bound
// counts every bucket that starts below it, so counts and the sum are exact
// to within the buckets' 1.6 % resolution.
func (p *Pool) AcquireWaitHistogram() poolpilot.Histogram {
	cum, _, _ := p.win.cumulative()
	return waitHistogram(&cum)
}

// waitHistogram folds cumulative log-linear wait counts into the
// WaitBucketsSeconds histogram, in one pass over the buckets: bucket lows
// rise with the index, so each bound's count is the running total at the
// first bucket that starts at or above it.
func waitHistogram(cum *[numBuckets]uint64) poolpilot.Histogram {
	h := poolpilot.Histogram{Buckets: make(map[float64]uint64, len(WaitBucketsSeconds))}
	var sumNs float64
	var running uint64
	next := 0 // index in WaitBucketsSeconds of the next bound to fill
	limit := boundNanos(next)
	for i, n := range cum {
		low, width := bucketBounds(i)
		for next < len(WaitBucketsSeconds) && low >= limit {
			h.Buckets[WaitBucketsSeconds[next]] = running
			next++
			limit = boundNanos(next)
		}
		if n == 0 {
			continue
		}
		running += n
		h.Count += n
		sumNs += float64(n) * (float64(low) + float64(width-1)/2)
	}
	for ; next < len(WaitBucketsSeconds); next++ {
		h.Buckets[WaitBucketsSeconds[next]] = running
	}
	h.SumSeconds = sumNs / float64(time.Second)
	return h
}

// boundNanos is WaitBucketsSeconds[i] in nanoseconds (0 past the end).
func boundNanos(i int) int64 {
	if i >= len(WaitBucketsSeconds) {
		return 0
	}
	return int64(WaitBucketsSeconds[i] * float64(time.Second))
}
