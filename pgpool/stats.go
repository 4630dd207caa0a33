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
func (p *Pool) Stats() poolpilot.PoolStats {
	cfg := p.Config()
	st := p.inner.Stat()
	now := p.now()
	ws := p.win.read(now.UnixNano())
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
