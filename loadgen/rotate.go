package loadgen

import (
	"context"
	"time"
)

// rotator closes a second of the series every second: it swaps each shard's
// current window out, merges them, and appends the second to the series.
// Memory is one window per shard plus one merged window, whatever the run's
// length; the series grows by one small struct a second.
type rotator struct {
	e       *engine
	agg     *window
	series  []Second
	last    time.Time // end of the last closed second
	n       int
	pool    *PoolReport
	sampler PoolSampler
	// utilMax is the highest pool utilization sampled (every 100 ms) in the
	// current second: one reading a second would miss short saturations.
	utilMax float64
}

const poolSampleEvery = 100 * time.Millisecond

func newRotator(e *engine) *rotator {
	r := &rotator{e: e, agg: newWindow(), last: e.start}
	if ps, ok := e.target.(PoolSampler); ok {
		r.sampler = ps
		r.pool = &PoolReport{}
	}
	return r
}

func (r *rotator) loop(ctx context.Context) {
	next := r.e.start.Add(time.Second)
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	var sample <-chan time.Time
	if r.sampler != nil {
		tk := time.NewTicker(poolSampleEvery)
		defer tk.Stop()
		sample = tk.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-sample:
			r.utilMax = max(r.utilMax, r.sampler.PoolSample().Utilization)
		case <-t.C:
			r.close(next)
			next = r.e.start.Add(time.Duration(r.n+1) * time.Second)
			t.Reset(time.Until(next))
		}
	}
}

// flush closes the last, partial second at the end of the run.
func (r *rotator) flush(end time.Time) {
	if end.Sub(r.last) >= 10*time.Millisecond {
		r.close(end)
		return
	}
	// Too short to be a second of its own: fold it into the previous one.
	for _, sh := range r.e.shards {
		w := sh.rotate()
		if len(r.series) > 0 {
			s := &r.series[len(r.series)-1]
			s.Requests += w.requests
			s.Errors += w.errors
			s.Violations += w.violations
			s.Late += w.late
			s.Dropped += w.dropped
		}
		sh.release(w)
	}
}

func (r *rotator) close(at time.Time) {
	r.agg.reset()
	for _, sh := range r.e.shards {
		w := sh.rotate()
		r.agg.merge(w)
		sh.release(w)
	}
	span := at.Sub(r.last)
	r.n++
	s := Second{
		T:          r.n,
		Elapsed:    at.Sub(r.e.start).Seconds(),
		Warmup:     r.last.Before(r.e.measFrom),
		Requests:   r.agg.requests,
		Errors:     r.agg.errors,
		Violations: r.agg.violations,
		Late:       r.agg.late,
		Dropped:    r.agg.dropped,
		Inflight:   r.e.inflight.Load(),
	}
	if span > 0 {
		s.Rate = round3(float64(s.Requests) / span.Seconds())
	}
	if s.Requests > 0 {
		s.P50MS, s.P95MS, s.P99MS = ms(r.agg.lat.ValueAtQuantile(50)), ms(r.agg.lat.ValueAtQuantile(95)), ms(r.agg.lat.ValueAtQuantile(99))
		s.MaxMS = ms(r.agg.lat.Max())
		s.LagP95MS = ms(r.agg.lag.ValueAtQuantile(95))
	}
	if sc := r.e.cfg.Schedule; sc != nil && span > 0 {
		// the mean scheduled rate over this second (a ramp changes within it)
		n := sc.Count(min(at.Sub(r.e.start), r.e.measTo.Sub(r.e.start))) - sc.Count(r.last.Sub(r.e.start))
		s.TargetRate = round3(max(n, 0) / span.Seconds())
	}
	if r.sampler != nil {
		p := r.sampler.PoolSample()
		p.Utilization = max(p.Utilization, r.utilMax)
		r.utilMax = 0
		s.PoolWaitP95MS, s.PoolUtilization = &p.WaitP95MS, &p.Utilization
		if !s.Warmup {
			r.pool.WaitP95MS = max(r.pool.WaitP95MS, round3(p.WaitP95MS))
			r.pool.UtilizationMax = max(r.pool.UtilizationMax, round3(p.Utilization))
		}
	}
	r.last = at
	r.series = append(r.series, s)
	if r.e.cfg.OnSecond != nil {
		r.e.cfg.OnSecond(s)
	}
}

// ms converts microseconds to milliseconds rounded to the microsecond.
func ms(us int64) float64 { return float64(us) / 1000 }

func round3(f float64) float64 {
	if f >= 0 {
		return float64(int64(f*1000+0.5)) / 1000
	}
	return -round3(-f)
}
