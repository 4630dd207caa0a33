package criteria

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
)

// Defaults of Options.
const (
	DefaultInterval        = time.Second
	DefaultMaxInconclusive = 5 * time.Minute
	DefaultSuccessWindow   = 60 * time.Minute
	DefaultMaxEvidence     = 1000
)

// Options configure an Engine. Zero values take the defaults.
type Options struct {
	Clock poolpilot.Clock // nil: the system clock
	// Interval is how often the caller evaluates (default 1s); it sets the
	// default Stale.
	Interval time.Duration
	// Stale is how old the newest sample of a series may be before the
	// series counts as a gap, and the largest spacing between two samples
	// of one unbroken breach (default 3 × Interval).
	Stale time.Duration
	// MaxInconclusive is how long a criterion may be inconclusive before
	// that counts as firing, for criteria that do not set their own
	// (default 5m; negative: never).
	MaxInconclusive time.Duration
	// SuccessWindow is the window of Evaluation.Verdict (default 60m, the
	// seed's "sustained 60 minutes").
	SuccessWindow time.Duration
	// Retention is how long samples are kept (default: the longest For or
	// max_inconclusive plus 2 minutes, at least 10 minutes, and at least
	// BaselineWindow). Each series is kept in a buffer pruned in place to
	// it, so memory is about Retention's samples however long the run.
	Retention time.Duration
	// BaselineWindow is the longest window CaptureBaseline will be asked
	// for; the default Retention keeps that much, so that a baseline
	// longer than 10 minutes is not silently measured over the last 10.
	BaselineWindow time.Duration
	// MaxEvidence caps the samples kept in a Decision (default 1000, the
	// newest are kept).
	MaxEvidence int
}

type seriesKey struct{ metric, instance string }

// Engine evaluates a set of criteria over the samples observed so far. It
// does no I/O: sources push samples with Observe and a loop calls Evaluate
// every Interval. It is safe for concurrent use.
type Engine struct {
	opts  Options
	crit  []Criterion
	start time.Time

	mu       sync.Mutex
	series   map[seriesKey]*window
	fleet    map[string]*window // aggregate series per criterion name
	baseline map[string]float64
	decision *Decision
	okSince  time.Time
}

// New validates specs and returns an engine for them.
func New(specs []poolpilot.CriterionSpec, opts Options) (*Engine, error) {
	crit, err := Compile(specs)
	if err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = poolpilot.SystemClock{}
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Stale <= 0 {
		opts.Stale = 3 * opts.Interval
	}
	if opts.MaxInconclusive == 0 {
		opts.MaxInconclusive = DefaultMaxInconclusive
	}
	if opts.SuccessWindow <= 0 {
		opts.SuccessWindow = DefaultSuccessWindow
	}
	if opts.MaxEvidence <= 0 {
		opts.MaxEvidence = DefaultMaxEvidence
	}
	if opts.Retention <= 0 {
		opts.Retention = 10 * time.Minute
		for _, c := range crit {
			opts.Retention = max(opts.Retention, c.For.D()+2*time.Minute, c.MaxInconclusive.D()+2*time.Minute)
		}
		opts.Retention = max(opts.Retention, opts.BaselineWindow)
	}
	return &Engine{
		opts: opts, crit: crit, start: opts.Clock.Now(),
		series:   map[seriesKey]*window{},
		fleet:    map[string]*window{},
		baseline: map[string]float64{},
	}, nil
}

// Criteria returns the compiled criteria, in order.
func (e *Engine) Criteria() []Criterion { return append([]Criterion(nil), e.crit...) }

// Options returns the effective options.
func (e *Engine) Options() Options { return e.opts }

// Metrics returns the sample metrics the criteria read (Criterion.Key).
func (e *Engine) Metrics() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range e.crit {
		if !seen[c.Key()] {
			seen[c.Key()] = true
			out = append(out, c.Key())
		}
	}
	return out
}

// Observe stores samples. A sample whose value is not a finite number is
// stored as a gap. Samples older than Retention may be dropped here rather
// than at the next Evaluate (when a series' buffer is full), so that a
// caller that keeps observing without evaluating — the runner during an
// apply — holds no more than Retention of samples either.
func (e *Engine) Observe(samples ...poolpilot.Sample) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range samples {
		if !s.Gap && (math.IsNaN(s.Value) || math.IsInf(s.Value, 0)) {
			s.Gap, s.Value, s.Reason = true, 0, "value is not a finite number"
		}
		k := seriesKey{s.Metric, s.Instance}
		w := e.series[k]
		if w == nil {
			w = &window{}
			e.series[k] = w
		}
		w.insert(s, e.keep())
	}
}

// keep tells a window when its samples expire and how many it usually
// holds: one per interval over the retention.
func (e *Engine) keep() keep {
	return keep{cut: e.cut, hint: int(e.opts.Retention/e.opts.Interval) + 1}
}

// cut is the time before which samples are no longer kept.
func (e *Engine) cut() time.Time { return e.opts.Clock.Now().Add(-e.opts.Retention) }

// SetBaseline sets the baseline of a metric (a Criterion.Key) for
// baseline-relative criteria.
func (e *Engine) SetBaseline(metric string, v float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.baseline[metric] = v
}

// Baselines returns a copy of the baselines.
func (e *Engine) Baselines() map[string]float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]float64, len(e.baseline))
	for k, v := range e.baseline {
		out[k] = v
	}
	return out
}

// CaptureBaseline sets the baseline of every metric read by a
// baseline-relative criterion to the mean of its samples (all instances,
// gaps excluded) over the last window, and returns them. It fails, naming
// the metric, when one has no sample in the window. Only samples within
// Retention are kept: a longer window needs Options.BaselineWindow.
func (e *Engine) CaptureBaseline(window time.Duration) (map[string]float64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.opts.Clock.Now()
	out := map[string]float64{}
	var errs []error
	for _, c := range e.crit {
		if !c.Parsed.Relative {
			continue
		}
		key := c.Key()
		var sum float64
		n := 0
		for k, w := range e.series {
			if k.metric != key {
				continue
			}
			for _, s := range w.samples() {
				if !s.Gap && !s.Time.Before(now.Add(-window)) && !s.Time.After(now) {
					sum += s.Value
					n++
				}
			}
		}
		if n == 0 {
			errs = append(errs, fmt.Errorf("baseline of %s (criterion %q): no sample in the last %s", key, c.Name, window))
			continue
		}
		out[key] = sum / float64(n)
		e.baseline[key] = out[key]
	}
	return out, errors.Join(errs...)
}

// Decision returns the rollback decision, or nil while no trigger fired.
func (e *Engine) Decision() *Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.decision
}

// Series returns a snapshot of the stored series, sorted by metric and
// instance.
func (e *Engine) Series() []poolpilot.Series {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]poolpilot.Series, 0, len(e.series))
	for k, w := range e.series {
		out = append(out, poolpilot.Series{Metric: k.metric, Instance: k.instance, Samples: append([]poolpilot.Sample(nil), w.samples()...)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Metric != out[j].Metric {
			return out[i].Metric < out[j].Metric
		}
		return out[i].Instance < out[j].Instance
	})
	return out
}

// Evaluate evaluates every criterion at the clock's now.
func (e *Engine) Evaluate() Evaluation {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.opts.Clock.Now()
	e.prune(now)
	ev := Evaluation{Time: now, Results: make([]Result, 0, len(e.crit))}
	for _, c := range e.crit {
		var r Result
		if c.Scope == poolpilot.ScopeFleet {
			r = e.evalFleet(c, now)
		} else {
			r = e.evalInstances(c, now)
		}
		ev.Results = append(ev.Results, r)
	}
	e.decide(now, ev.Results)
	ev.Decision = e.decision
	ev.Verdict = e.verdict(now, ev.Results, e.opts.SuccessWindow)
	for i := range ev.Results {
		ev.Results[i].evidence = nil
	}
	return ev
}

// prune drops the samples older than Retention, in place; a series left
// empty is forgotten (its instance no longer counts), a fleet series is
// kept.
func (e *Engine) prune(now time.Time) {
	cut := now.Add(-e.opts.Retention)
	for k, w := range e.series {
		if w.prune(cut) == 0 {
			delete(e.series, k)
		}
	}
	for _, w := range e.fleet {
		w.prune(cut)
	}
}

// decide latches the first rollback trigger that fires: P0 before P1,
// then in the order of the criteria.
func (e *Engine) decide(now time.Time, results []Result) {
	if e.decision != nil {
		return
	}
	var pick *Result
	for i := range results {
		r := &results[i]
		if r.Role != poolpilot.RoleRollback || r.State != StateFiring {
			continue
		}
		if pick == nil || (r.Class == poolpilot.ClassP0 && pick.Class != poolpilot.ClassP0) {
			pick = r
		}
	}
	if pick == nil {
		return
	}
	ev := pick.evidence
	if len(ev) > e.opts.MaxEvidence {
		ev = ev[len(ev)-e.opts.MaxEvidence:]
	}
	e.decision = &Decision{
		Time: now, Criterion: pick.Name, Class: pick.Class, Expr: pick.Expr,
		Instance: pick.Instance, Value: pick.Value, Threshold: pick.Threshold,
		HeldS: pick.HeldS, Reason: pick.Reason, Evidence: append([]poolpilot.Sample(nil), ev...),
	}
}

func (e *Engine) verdict(now time.Time, results []Result, window time.Duration) Verdict {
	var failing []string
	for _, r := range results {
		if r.Role == poolpilot.RoleSuccess && r.State != StateOK {
			failing = append(failing, r.Name)
		}
	}
	if len(failing) > 0 {
		e.okSince = time.Time{}
	} else if e.okSince.IsZero() {
		e.okSince = now
	}
	v := Verdict{WindowS: window.Seconds(), OKSince: e.okSince, Failing: failing, LeftS: window.Seconds()}
	if !e.okSince.IsZero() {
		held := now.Sub(e.okSince)
		v.HeldS = held.Seconds()
		v.LeftS = max(0, (window - held).Seconds())
		v.Success = held >= window
	}
	return v
}
