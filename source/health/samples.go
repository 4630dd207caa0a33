package health

import (
	"strings"
	"time"

	"github.com/poolpilot/poolpilot"
)

// Thrash defines connection thrashing. Between two polls, with opens the
// new server connections per second, acquires the acquires per second and
// recycles the closes per second whose reason names idle or lifetime:
//
//	thrashing = (opens ≥ OpensPerSec and opens/acquires ≥ OpensPerAcquire)
//	         or (opens ≥ LockstepPerSec and recycles ≥ LockstepPerSec
//	             and recycles/opens within [1/LockstepRatio, LockstepRatio])
//
// The first says the pool keeps dialling instead of reusing; the second
// that it closes idle or aged connections only to open new ones at the
// same pace (min too high for the idle timeout, or lifetime too short).
type Thrash struct {
	OpensPerSec     float64
	OpensPerAcquire float64
	LockstepPerSec  float64
	LockstepRatio   float64
}

// DefaultThrash: more than 1 new connection a second and more than one per
// ten acquires; or at least 0.5 recycles and 0.5 opens a second within a
// factor 2 of each other.
var DefaultThrash = Thrash{OpensPerSec: 1, OpensPerAcquire: 0.1, LockstepPerSec: 0.5, LockstepRatio: 2}

// Rates are the per-second rates between two polls that Thrash judges.
type Rates struct {
	Opens, Closes, Recycles, Acquires, Timeouts, Refusals float64
}

// Thrashing applies the definition to rates.
func (t Thrash) Thrashing(r Rates) bool {
	churn := r.Opens >= t.OpensPerSec && (r.Acquires == 0 || r.Opens/r.Acquires >= t.OpensPerAcquire)
	lockstep := r.Opens >= t.LockstepPerSec && r.Recycles >= t.LockstepPerSec &&
		r.Recycles/r.Opens <= t.LockstepRatio && r.Opens/r.Recycles <= t.LockstepRatio
	return churn || lockstep
}

func (s *Source) samples(inst string, now time.Time, d Document, pollErr error) []poolpilot.Sample {
	h := d.Health
	s.mu.Lock()
	st := s.state[inst]
	if st == nil {
		st = &instance{firstPoll: now}
		s.state[inst] = st
	}
	up := pollErr == nil && h.Status == "ok"
	var down float64
	if up {
		st.lastUp = now
	} else if st.lastUp.IsZero() {
		down = now.Sub(st.firstPoll).Seconds()
	} else {
		down = now.Sub(st.lastUp).Seconds()
	}
	var rates *Rates
	if pollErr == nil {
		rates = st.advance(now, h.Pool)
	} else {
		st.prev = nil // a gap: rates restart after it
	}
	s.mu.Unlock()

	out := []poolpilot.Sample{
		{Metric: poolpilot.MetricReachable, Value: b2f(up)},
		{Metric: poolpilot.MetricDowntime, Value: down},
	}
	if pollErr != nil {
		for _, m := range metrics[2:] {
			out = append(out, poolpilot.Sample{Metric: m, Gap: true, Reason: pollErr.Error()})
		}
		return finish(out, inst, now)
	}
	out = append(out, requestSamples(h.Requests)...)
	p := h.Pool
	for _, kv := range []struct {
		m string
		v float64
	}{
		{poolpilot.MetricPoolMax, float64(p.Max)}, {poolpilot.MetricPoolMin, float64(p.Min)}, {poolpilot.MetricPoolTotal, float64(p.Total)},
		{poolpilot.MetricPoolAcquired, float64(p.Acquired)}, {poolpilot.MetricPoolIdle, float64(p.Idle)}, {poolpilot.MetricPoolUtilization, p.Utilization},
		{poolpilot.MetricPoolWaiting, float64(p.Waiting)}, {poolpilot.MetricPoolOldestWait, p.OldestWaitMS}, {poolpilot.MetricPoolWaitP50, p.WaitP50MS},
		{poolpilot.MetricPoolWaitP95, p.WaitP95MS}, {poolpilot.MetricPoolWaitP99, p.WaitP99MS}, {poolpilot.MetricPoolChurn, p.Churn},
	} {
		out = append(out, poolpilot.Sample{Metric: kv.m, Value: kv.v})
	}
	out = append(out, s.rateSamples(rates)...)
	// Absent is never zero: a metric whose field the document does not
	// carry is a gap naming the field.
	for i := range out {
		if miss := d.Missing(out[i].Metric); len(miss) > 0 {
			out[i] = poolpilot.Sample{Metric: out[i].Metric, Gap: true, Reason: AbsentReason(miss)}
		}
	}
	return finish(out, inst, now)
}

func finish(out []poolpilot.Sample, inst string, now time.Time) []poolpilot.Sample {
	for i := range out {
		out[i].Instance, out[i].Time, out[i].Source = inst, now, Name
	}
	return out
}

func requestSamples(r *poolpilot.RequestStats) []poolpilot.Sample {
	names := []string{poolpilot.MetricErrorRate, poolpilot.MetricLatencyP50, poolpilot.MetricLatencyP95, poolpilot.MetricLatencyP99, poolpilot.MetricRequests}
	if r == nil {
		out := make([]poolpilot.Sample, len(names))
		for i, m := range names {
			out[i] = poolpilot.Sample{Metric: m, Gap: true, Reason: "the health document has no requests object"}
		}
		return out
	}
	rps := poolpilot.Sample{Metric: poolpilot.MetricRequests, Gap: true, Reason: "requests.window_seconds is 0"}
	if r.WindowSeconds > 0 {
		rps = poolpilot.Sample{Metric: poolpilot.MetricRequests, Value: float64(r.Total) / r.WindowSeconds}
	}
	return []poolpilot.Sample{
		{Metric: poolpilot.MetricErrorRate, Value: r.ErrorRate}, {Metric: poolpilot.MetricLatencyP50, Value: r.LatencyP50MS},
		{Metric: poolpilot.MetricLatencyP95, Value: r.LatencyP95MS}, {Metric: poolpilot.MetricLatencyP99, Value: r.LatencyP99MS}, rps,
	}
}

func (s *Source) rateSamples(r *Rates) []poolpilot.Sample {
	names := []string{poolpilot.MetricPoolAcquireTimeouts, poolpilot.MetricPoolServerRefusals, poolpilot.MetricPoolOpenedPerS, poolpilot.MetricPoolClosedPerS, poolpilot.MetricThrashing}
	if r == nil {
		out := make([]poolpilot.Sample, len(names))
		for i, m := range names {
			out[i] = poolpilot.Sample{Metric: m, Gap: true, Reason: "rates need two successive polls"}
		}
		return out
	}
	vals := []float64{r.Timeouts, r.Refusals, r.Opens, r.Closes, b2f(s.opts.Thrash.Thrashing(*r))}
	out := make([]poolpilot.Sample, len(names))
	for i, m := range names {
		out[i] = poolpilot.Sample{Metric: m, Value: vals[i]}
	}
	return out
}

// advance stores the counters of p and returns the rates since the
// previous poll (nil on the first poll). A counter that went down (the
// service restarted) counts from zero.
func (st *instance) advance(now time.Time, p poolpilot.PoolStats) *Rates {
	var recycled int64
	for reason, n := range p.ClosedByReason {
		if strings.Contains(reason, "idle") || strings.Contains(reason, "lifetime") {
			recycled += n
		}
	}
	cur := &counters{at: now, acquires: p.Acquires, timeouts: p.AcquireTimeouts, refusals: p.ServerRefusals,
		opened: p.Opened, closed: p.Closed, closedIdleLifetime: recycled}
	prev := st.prev
	st.prev = cur
	if prev == nil {
		return nil
	}
	dt := now.Sub(prev.at).Seconds()
	if dt <= 0 {
		return nil
	}
	rate := func(c, p int64) float64 {
		if c < p {
			return float64(c) / dt
		}
		return float64(c-p) / dt
	}
	return &Rates{
		Opens: rate(cur.opened, prev.opened), Closes: rate(cur.closed, prev.closed),
		Recycles: rate(cur.closedIdleLifetime, prev.closedIdleLifetime), Acquires: rate(cur.acquires, prev.acquires),
		Timeouts: rate(cur.timeouts, prev.timeouts), Refusals: rate(cur.refusals, prev.refusals),
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
