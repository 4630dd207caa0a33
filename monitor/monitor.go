package monitor

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/source"
)

// Options configure a Monitor.
type Options struct {
	Interval time.Duration   // evaluation and polling interval (default 1s)
	Clock    poolpilot.Clock // default the system clock
	OnError  func(error)     // source errors (may be nil)
	// BeforeEvaluate, if set, runs before each evaluation of Run (to push
	// samples such as the load generator's violations).
	BeforeEvaluate func()
	// MaxSamples caps the evaluations kept (default 48h at one a second);
	// the oldest are dropped.
	MaxSamples int
	// Transform, if set, rewrites each sample a source delivers before the
	// engine sees it (the runner folds its own requests' view into the
	// service's error rate and latency).
	Transform func(poolpilot.Sample) poolpilot.Sample
}

// Monitor is a running sources → engine loop.
type Monitor struct {
	eng  *criteria.Engine
	opts Options
	stop func()

	mu      sync.Mutex
	latest  map[string]map[string]poolpilot.Sample // metric → instance → newest sample
	samples []evidence.Sample
	last    *criteria.Evaluation
}

// Start does a first collection from every source, then keeps them polling
// until Stop.
func Start(ctx context.Context, eng *criteria.Engine, sources []source.Source, opts Options) *Monitor {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Clock == nil {
		opts.Clock = poolpilot.SystemClock{}
	}
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = 48 * 3600
	}
	m := &Monitor{eng: eng, opts: opts, latest: map[string]map[string]poolpilot.Sample{}}
	m.stop = source.Start(ctx, sources, opts.Interval, m.Observe, opts.OnError)
	return m
}

// Stop ends the pollers and waits for them.
func (m *Monitor) Stop() {
	if m.stop != nil {
		m.stop()
		m.stop = nil
	}
}

// Engine is the monitored engine.
func (m *Monitor) Engine() *criteria.Engine { return m.eng }

// Interval is the evaluation interval.
func (m *Monitor) Interval() time.Duration { return m.opts.Interval }

// Observe feeds samples to the engine and keeps the newest per metric and
// instance (for Latest and the per-evaluation sample).
func (m *Monitor) Observe(ss ...poolpilot.Sample) {
	if m.opts.Transform != nil {
		ss = append([]poolpilot.Sample(nil), ss...)
		for i := range ss {
			ss[i] = m.opts.Transform(ss[i])
		}
	}
	m.eng.Observe(ss...)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range ss {
		byInst := m.latest[s.Metric]
		if byInst == nil {
			byInst = map[string]poolpilot.Sample{}
			m.latest[s.Metric] = byInst
		}
		byInst[s.Instance] = s
	}
}

// Latest returns the newest sample of metric per instance (gaps included).
func (m *Monitor) Latest(metric string) map[string]poolpilot.Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]poolpilot.Sample{}
	for k, v := range m.latest[metric] {
		out[k] = v
	}
	return out
}

// Evaluate evaluates every criterion now and records the evaluation.
func (m *Monitor) Evaluate() criteria.Evaluation {
	if m.opts.BeforeEvaluate != nil {
		m.opts.BeforeEvaluate()
	}
	ev := m.eng.Evaluate()
	s := evidence.Sample{Time: ev.Time.UTC(), States: map[string]string{}}
	for _, r := range ev.Results {
		s.States[r.Name] = string(r.State)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stale := 3 * m.opts.Interval
	s.LatencyP95MS = m.fleetLocked(poolpilot.MetricLatencyP95, ev.Time, stale, maxOf)
	s.ErrorRate = m.fleetLocked(poolpilot.MetricErrorRate, ev.Time, stale, maxOf)
	s.Utilization = m.fleetLocked(poolpilot.MetricPoolUtilization, ev.Time, stale, maxOf)
	s.WaitP95MS = m.fleetLocked(poolpilot.MetricPoolWaitP95, ev.Time, stale, maxOf)
	m.samples = append(m.samples, s)
	if over := len(m.samples) - m.opts.MaxSamples; over > 0 {
		m.samples = append([]evidence.Sample(nil), m.samples[over:]...)
	}
	m.last = &ev
	return ev
}

// Last is the latest evaluation (nil before the first).
func (m *Monitor) Last() *criteria.Evaluation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

func maxOf(vs []float64) float64 {
	out := vs[0]
	for _, v := range vs[1:] {
		out = max(out, v)
	}
	return out
}

// fleetLocked aggregates the fresh, non-gap newest values of metric; nil
// when there are none.
func (m *Monitor) fleetLocked(metric string, now time.Time, stale time.Duration, agg func([]float64) float64) *float64 {
	var vs []float64
	for _, s := range m.latest[metric] {
		if !s.Gap && now.Sub(s.Time) <= stale {
			vs = append(vs, s.Value)
		}
	}
	if len(vs) == 0 {
		return nil
	}
	v := agg(vs)
	return &v
}

// Samples returns the recorded evaluations, oldest first.
func (m *Monitor) Samples() []evidence.Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]evidence.Sample(nil), m.samples...)
}

// Prepend adds earlier samples (from a run before a crash) ahead of the
// recorded ones.
func (m *Monitor) Prepend(ss []evidence.Sample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	all := append(append([]evidence.Sample(nil), ss...), m.samples...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	m.samples = all
}

// Run evaluates every interval for d (0: until ctx ends or fn stops it),
// calling fn with each evaluation; fn returns true to stop. Run returns
// ctx's error when ctx ends first, nil otherwise.
func (m *Monitor) Run(ctx context.Context, d time.Duration, fn func(criteria.Evaluation) bool) error {
	var end <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		end = t.C
	}
	tick := time.NewTicker(m.opts.Interval)
	defer tick.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if fn(m.Evaluate()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-end:
			fn(m.Evaluate())
			return nil
		case <-tick.C:
		}
	}
}
