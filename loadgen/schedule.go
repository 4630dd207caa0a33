package loadgen

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Stage is one piece of an arrival-rate schedule: the rate goes linearly
// from From to To requests per second over Over. A stage with Over == 0 holds
// From for ever (a constant rate).
type Stage struct {
	From, To float64
	Over     time.Duration
}

// Schedule is a piecewise-linear arrival rate, starting at t = 0 (the start
// of the run, warm-up included). After its last stage the schedule holds the
// last stage's To rate for ever. It is pure arithmetic: Offset(i) is the
// intended start of request i, so the pacer is exact over any duration and
// testable without a clock.
type Schedule struct {
	stages []Stage
}

// maxRate bounds a schedule: beyond ten million requests per second the
// arithmetic stays exact but no machine sends that much.
const maxRate = 1e7

// Constant returns a schedule of rate requests per second.
func Constant(rate float64) (*Schedule, error) {
	if math.IsNaN(rate) || rate <= 0 || rate > maxRate {
		return nil, fmt.Errorf("rate %v must be a number of requests per second above 0 (at most %g)", rate, float64(maxRate))
	}
	return &Schedule{stages: []Stage{{From: rate, To: rate}}}, nil
}

// NewSchedule returns a schedule of the given ramp stages.
func NewSchedule(stages ...Stage) (*Schedule, error) {
	if len(stages) == 0 {
		return nil, fmt.Errorf("a ramp needs at least one stage, e.g. 100:2000/60s")
	}
	positive := false
	for i, s := range stages {
		for _, r := range []float64{s.From, s.To} {
			if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 || r > maxRate {
				return nil, fmt.Errorf("ramp stage %d: rate %v must be between 0 and %g requests per second", i+1, r, float64(maxRate))
			}
		}
		if s.Over <= 0 {
			return nil, fmt.Errorf("ramp stage %d: duration %v must be positive", i+1, s.Over)
		}
		if s.From > 0 || s.To > 0 {
			positive = true
		}
	}
	if !positive {
		return nil, fmt.Errorf("a ramp must have a rate above 0 somewhere")
	}
	return &Schedule{stages: append([]Stage(nil), stages...)}, nil
}

// ParseRamp reads "FROM:TO/DURATION[,FROM:TO/DURATION…]", e.g.
// "100:2000/60s" or "0:500/10s,500:500/30s".
func ParseRamp(s string) (*Schedule, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty ramp: want FROM:TO/DURATION, e.g. 100:2000/60s")
	}
	var stages []Stage
	for _, part := range strings.Split(s, ",") {
		st, err := parseStage(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		stages = append(stages, st)
	}
	return NewSchedule(stages...)
}

func parseStage(p string) (Stage, error) {
	bad := fmt.Errorf("ramp stage %q: want FROM:TO/DURATION, e.g. 100:2000/60s", p)
	rates, dur, ok := strings.Cut(p, "/")
	if !ok {
		return Stage{}, bad
	}
	from, to, ok := strings.Cut(rates, ":")
	if !ok {
		return Stage{}, bad
	}
	f, err1 := strconv.ParseFloat(strings.TrimSpace(from), 64)
	t, err2 := strconv.ParseFloat(strings.TrimSpace(to), 64)
	d, err3 := time.ParseDuration(strings.TrimSpace(dur))
	if err1 != nil || err2 != nil {
		return Stage{}, fmt.Errorf("ramp stage %q: rates must be numbers of requests per second", p)
	}
	if err3 != nil {
		return Stage{}, fmt.Errorf("ramp stage %q: invalid duration %q (want e.g. 60s)", p, dur)
	}
	return Stage{From: f, To: t, Over: d}, nil
}

// Stages returns a copy of the stages.
func (s *Schedule) Stages() []Stage { return append([]Stage(nil), s.stages...) }

// Length is the sum of the ramp stages' durations (0 for a constant rate).
func (s *Schedule) Length() time.Duration {
	var d time.Duration
	for _, st := range s.stages {
		d += st.Over
	}
	return d
}

// Rate is the target arrival rate at offset t.
func (s *Schedule) Rate(t time.Duration) float64 {
	var t0 time.Duration
	for _, st := range s.stages {
		if st.Over == 0 {
			return st.From
		}
		if t < t0+st.Over {
			f := float64(t-t0) / float64(st.Over)
			return st.From + (st.To-st.From)*f
		}
		t0 += st.Over
	}
	return s.stages[len(s.stages)-1].To
}

// Count is the expected number of arrivals in [0, t): the integral of the
// rate.
func (s *Schedule) Count(t time.Duration) float64 {
	var n float64
	var t0 time.Duration
	for _, st := range s.stages {
		if st.Over == 0 {
			return n + st.From*(t-t0).Seconds()
		}
		tau := min(t-t0, st.Over).Seconds()
		if tau <= 0 {
			return n
		}
		n += st.From*tau + (st.To-st.From)*tau*tau/(2*st.Over.Seconds())
		t0 += st.Over
		if t <= t0 {
			return n
		}
	}
	return n + s.stages[len(s.stages)-1].To*(t-t0).Seconds()
}

// Offset returns the intended start of request i (counting from 0): the
// time t where Count(t) = i. ok is false when the schedule never reaches
// request i (its rate fell to 0 for ever).
func (s *Schedule) Offset(i int64) (time.Duration, bool) {
	k := float64(i)
	var c float64 // arrivals before the current stage
	var t0 time.Duration
	for _, st := range s.stages {
		if st.Over == 0 {
			return t0 + secs((k-c)/st.From), true
		}
		d := st.Over.Seconds()
		n := st.From*d + (st.To-st.From)*d/2
		if k-c < n {
			a := (st.To - st.From) / (2 * d)
			b := st.From
			x := k - c
			// Solve a τ² + b τ = x, in the form that stays stable when a → 0.
			tau := 2 * x / (b + math.Sqrt(math.Max(0, b*b+4*a*x)))
			if x == 0 {
				tau = 0
			}
			return t0 + secs(tau), true
		}
		c += n
		t0 += st.Over
	}
	last := s.stages[len(s.stages)-1].To
	if last <= 0 {
		return 0, false
	}
	return t0 + secs((k-c)/last), true
}

func secs(f float64) time.Duration {
	if f > float64(math.MaxInt64/2)/1e9 {
		return time.Duration(math.MaxInt64 / 2)
	}
	return time.Duration(math.Round(f * 1e9))
}

// String describes the schedule for humans.
func (s *Schedule) String() string {
	if len(s.stages) == 1 && s.stages[0].Over == 0 {
		return fmt.Sprintf("%g/s", s.stages[0].From)
	}
	parts := make([]string, len(s.stages))
	for i, st := range s.stages {
		parts[i] = fmt.Sprintf("%g:%g/%s", st.From, st.To, st.Over)
	}
	return "ramp " + strings.Join(parts, ",")
}
