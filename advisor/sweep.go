package advisor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/loadgen"
)

// Defaults of SweepConfig.
const (
	DefaultDropRatio    = 0.8 // a step below this share of the best throughput has fallen…
	DefaultDropSteps    = 2   // …and this many such steps in a row stop the sweep
	DefaultMaxErrorRate = 0.5 // a step with more errors than this stops the sweep
	// MinFallenSteps: the sweep never stops for a fall before this many
	// steps, so that the fit has its MinSteps points and two more, and one
	// noisy early step on a shared machine cannot end it at 1, 2, 3.
	MinFallenSteps = MinSteps + 2
)

// Stop reasons of a sweep.
const (
	StopLadder      = "ladder"      // every step up to Max ran
	StopFallen      = "fallen"      // throughput clearly fell
	StopErrors      = "errors"      // a step failed too often
	StopTimeBudget  = "time_budget" // the next step would overrun MaxTotal
	StopInterrupted = "interrupted" // ctx was cancelled
)

// Pool is what the sweep needs of the instrumented pool: a live resize (the
// pool max follows the step's concurrency) and its statistics (acquire-wait
// p95 over the pool's window). *pgpool.Pool satisfies it.
type Pool interface {
	Resize(ctx context.Context, max, min int) error
	Stats() poolpilot.PoolStats
}

// CPUMeter reports the database host's CPU use since its previous
// collection ("db.cpu", share of all cores); *hostcpu.Source satisfies it.
type CPUMeter interface {
	Collect(ctx context.Context) ([]poolpilot.Sample, error)
}

// SweepConfig describes a sweep.
type SweepConfig struct {
	Max          int           // highest concurrency
	Steps        []int         // the ladder; nil: Ladder(Max)
	Warmup       time.Duration // per step, before the measured window
	StepDuration time.Duration // measured window of each step
	// MaxTotal bounds the whole sweep: a step that would end after it is
	// not started. 0: no bound.
	MaxTotal     time.Duration
	DropRatio    float64       // 0: DefaultDropRatio
	DropSteps    int           // 0: DefaultDropSteps
	MaxErrorRate float64       // 0: DefaultMaxErrorRate
	Timeout      time.Duration // per request; 0: loadgen's default
	CPU          CPUMeter      // nil: no database CPU
	// Rounds is how many times each concurrency is measured (0: once). The
	// first round walks the ladder up and decides where it stops; the
	// others walk the same concurrencies down, then up, …, and each step
	// reports the medians of its rounds, so that a burst of outside load on
	// a shared machine spoils one measurement, not the step.
	Rounds int
	// OnStep, if set, receives each measurement as it completes (progress
	// line): the round (from 1), the index in the round and the round's
	// length (in the first round, the ladder's).
	OnStep func(round, i, of int, s Step)
	// Now is the clock of the time budget; nil: time.Now.
	Now func() time.Time
	// ConfirmPoorFit: with Rounds ≤ 1, when the USL fit of the first round
	// is poor, measure a second round, so that the empirical method can
	// tell noise (rounds that disagree) from a shape the law does not have.
	ConfirmPoorFit bool
	// Clients is the closed-loop load's concurrency at every step; 0: the
	// step's pool size. Set it above the pool sizes to measure a service
	// whose requests queue for its pool (size --http). With Clients set,
	// the pool's max is read back after each step (Step.PoolMax) and a
	// step whose pool is no longer at its size fails the sweep.
	Clients int
}

// Step is one measured concurrency.
type Step struct {
	Concurrency int      `json:"concurrency"`
	Throughput  float64  `json:"throughput"` // completed requests per second
	P50MS       float64  `json:"p50_ms"`
	P95MS       float64  `json:"p95_ms"`
	P99MS       float64  `json:"p99_ms"`
	Requests    int64    `json:"requests"`
	Errors      int64    `json:"errors"`
	WaitP95MS   float64  `json:"wait_p95_ms"`
	DBCPU       *float64 `json:"db_cpu"` // share of the database host's cores, 0..1; null when not measured
	ErrorSample string   `json:"error_sample,omitempty"`
	// Rounds is how many measurements the figures are the medians of
	// (requests and errors are their sums); 0 or 1: one.
	Rounds int `json:"rounds,omitempty"`
	// RoundThroughputs are the throughputs of the rounds, in the order
	// measured (only with Rounds > 1): their spread is the noise the
	// empirical method judges.
	RoundThroughputs []float64 `json:"round_throughputs,omitempty"`
	// Clients is the closed-loop load's concurrency when it differs from
	// the pool size (size --http); 0: the same.
	Clients int `json:"clients,omitempty"`
	// PoolMax is the pool max the service itself reported (/healthz)
	// before and after the step (size --http); 0: not read.
	PoolMax int `json:"pool_max,omitempty"`
	// Excluded marks a step with more than MaxStepErrorRate errors: left
	// out of the fit, the peak and the recommendation.
	Excluded bool `json:"excluded,omitempty"`
}

// ErrorRate is errors over requests.
func (s Step) ErrorRate() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Requests)
}

// SweepResult is what a sweep measured, complete or not.
type SweepResult struct {
	Steps   []Step `json:"steps"`
	Stopped string `json:"stopped"`
	Detail  string `json:"stopped_detail"`
	// Rounds is how many rounds were run (1 + any second round that
	// ConfirmPoorFit added).
	Rounds int `json:"-"`
}

func (c SweepConfig) withDefaults() (SweepConfig, error) {
	if c.Max < 1 {
		return c, fmt.Errorf("max concurrency %d must be at least 1", c.Max)
	}
	if c.StepDuration <= 0 {
		return c, fmt.Errorf("step duration %v must be positive", c.StepDuration)
	}
	if c.Warmup < 0 || c.MaxTotal < 0 {
		return c, errors.New("warm-up and max total duration must not be negative")
	}
	if c.Steps == nil {
		c.Steps = Ladder(c.Max)
	}
	if c.DropRatio == 0 {
		c.DropRatio = DefaultDropRatio
	}
	if c.DropSteps == 0 {
		c.DropSteps = DefaultDropSteps
	}
	if c.MaxErrorRate == 0 {
		c.MaxErrorRate = DefaultMaxErrorRate
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// Sweep runs the closed model at each concurrency of the ladder, with the
// pool's max resized to that concurrency, and returns the steps. It stops
// early when throughput has clearly fallen (DropSteps steps in a row below
// DropRatio of the best so far, after at least MinFallenSteps steps), when a step's error rate exceeds
// MaxErrorRate, or when the next step would overrun MaxTotal. When ctx is
// cancelled it returns the completed steps (the step in progress is
// discarded), Stopped "interrupted" and ctx's error.
func Sweep(ctx context.Context, pool Pool, target loadgen.Target, cfg SweepConfig) (*SweepResult, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	start := c.Now()
	res, err := firstRound(ctx, pool, target, c, start)
	res.Rounds = 1
	if err != nil || res.Stopped == StopErrors || res.Stopped == StopTimeBudget {
		return res, err
	}
	if c.Rounds <= 1 && c.ConfirmPoorFit && len(res.Steps) >= MinSteps {
		if fit, ferr := FitSteps(res.Steps); ferr != nil || !fit.Good() {
			c.Rounds = 2
			res.Detail = strings.TrimPrefix(res.Detail+"; ", "; ") + "a second round was measured because " + poorFit(&fit, ferr)
		}
	}
	if c.Rounds <= 1 {
		return res, nil
	}
	res.Rounds = c.Rounds
	return moreRounds(ctx, pool, target, c, start, res)
}

// firstRound walks the ladder up, stopping early as Sweep says.
func firstRound(ctx context.Context, pool Pool, target loadgen.Target, c SweepConfig, start time.Time) (*SweepResult, error) {
	res := &SweepResult{Steps: []Step{}, Stopped: StopLadder}
	best, below := 0.0, 0
	for i, n := range c.Steps {
		if c.MaxTotal > 0 && c.Now().Add(c.Warmup+c.StepDuration).Sub(start) > c.MaxTotal {
			res.Stopped = StopTimeBudget
			res.Detail = fmt.Sprintf("the step at concurrency %d would end after the max total duration %v", n, c.MaxTotal)
			return res, nil
		}
		st, err := runStep(ctx, pool, target, c, n)
		if err != nil {
			return res, stepFailed(ctx, res, n, err)
		}
		res.Steps = append(res.Steps, st)
		if c.OnStep != nil {
			c.OnStep(1, i, len(c.Steps), st)
		}
		if st.ErrorRate() > c.MaxErrorRate {
			res.Stopped = StopErrors
			res.Detail = fmt.Sprintf("%.0f%% of the requests at concurrency %d failed (e.g. %s)", 100*st.ErrorRate(), n, st.ErrorSample)
			return res, nil
		}
		if st.Throughput > best {
			best, below = st.Throughput, 0
		} else if st.Throughput < c.DropRatio*best {
			below++
		} else {
			below = 0
		}
		if below >= c.DropSteps && len(res.Steps) >= MinFallenSteps {
			res.Stopped = StopFallen
			res.Detail = fmt.Sprintf("throughput stayed below %.0f%% of the best (%.0f/s) for %d steps in a row", 100*c.DropRatio, best, below)
			return res, nil
		}
	}
	return res, nil
}

func stepFailed(ctx context.Context, res *SweepResult, n int, err error) error {
	if ctx.Err() != nil {
		res.Stopped, res.Detail = StopInterrupted, fmt.Sprintf("interrupted during the step at concurrency %d", n)
		return ctx.Err()
	}
	return fmt.Errorf("step at concurrency %d: %w", n, err)
}

// runStep measures one concurrency.
func runStep(ctx context.Context, pool Pool, target loadgen.Target, c SweepConfig, n int) (Step, error) {
	st := Step{Concurrency: n}
	if err := pool.Resize(ctx, n, 1); err != nil {
		return st, fmt.Errorf("resize the pool to %d: %w", n, err)
	}
	clients := n
	if c.Clients > 0 {
		clients, st.Clients = c.Clients, c.Clients
	}
	lc := loadgen.Config{Concurrency: clients, Warmup: c.Warmup, Duration: c.StepDuration, Timeout: c.Timeout}
	cpu := newCPUWindow(ctx, c.CPU, c.Warmup)
	rep, err := loadgen.Run(ctx, lc, target)
	if err != nil {
		cpu.stop()
		return st, err
	}
	st.DBCPU = cpu.finish(ctx)
	st.Throughput = rep.AchievedRate
	st.P50MS, st.P95MS, st.P99MS = rep.LatencyMS.P50, rep.LatencyMS.P95, rep.LatencyMS.P99
	st.Requests, st.Errors = rep.Requests, rep.Errors
	ps := pool.Stats()
	st.WaitP95MS = ps.WaitP95MS
	if c.Clients > 0 {
		st.PoolMax = ps.Max
		if ps.Max != n {
			return st, fmt.Errorf("the pool max read back after the step is %d, not %d (0: the health document could not be read): another resize during the step?", ps.Max, n)
		}
	}
	if len(rep.ErrorSamples) > 0 {
		st.ErrorSample = rep.ErrorSamples[0]
	}
	return st, nil
}
