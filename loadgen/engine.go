package loadgen

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxInflight = 1000
	DefaultLateAfter   = 50 * time.Millisecond
	DefaultDropAfter   = time.Second
	DefaultTimeout     = 10 * time.Second
)

// Config describes one run. Exactly one of Schedule (open model) and
// Concurrency (closed model) is set.
type Config struct {
	// Schedule is the arrival rate of the open model: requests start at
	// their intended times whatever the target's latency.
	Schedule *Schedule
	// Concurrency is the number of workers of the closed model: each sends
	// its next request when its previous one completes.
	Concurrency int
	// Warmup runs before the measured window; its requests appear in the
	// per-second series (flagged) but not in the totals.
	Warmup time.Duration
	// Duration is the measured window, after the warm-up.
	Duration time.Duration
	// MaxInflight caps the requests in flight (open model).
	MaxInflight int
	// LateAfter: a request that starts more than this after its intended
	// time counts as late.
	LateAfter time.Duration
	// DropAfter: a request that cannot start (MaxInflight reached) within
	// this of its intended time is dropped, never sent.
	DropAfter time.Duration
	// Timeout bounds each request.
	Timeout time.Duration
	// OnSecond, if set, receives each second of the series as it closes
	// (for a progress line or a live controller). It must return quickly.
	OnSecond func(Second)
	// Shards is the number of histogram shards; 0: one per CPU (at most 8).
	Shards int
}

func (c *Config) withDefaults() (Config, error) {
	x := *c
	if x.MaxInflight == 0 {
		x.MaxInflight = DefaultMaxInflight
	}
	if x.LateAfter == 0 {
		x.LateAfter = DefaultLateAfter
	}
	if x.DropAfter == 0 {
		x.DropAfter = DefaultDropAfter
	}
	if x.Timeout == 0 {
		x.Timeout = DefaultTimeout
	}
	if x.Shards == 0 {
		x.Shards = min(max(runtime.GOMAXPROCS(0), 1), 8)
	}
	switch {
	case (x.Schedule == nil) == (x.Concurrency == 0):
		return x, fmt.Errorf("loadgen: set exactly one of Schedule (open model, a rate) and Concurrency (closed model)")
	case x.Concurrency < 0:
		return x, fmt.Errorf("loadgen: Concurrency %d must be positive", x.Concurrency)
	case x.Duration <= 0:
		return x, fmt.Errorf("loadgen: Duration %v must be positive", x.Duration)
	case x.Warmup < 0:
		return x, fmt.Errorf("loadgen: Warmup %v must not be negative", x.Warmup)
	case x.MaxInflight < 0, x.LateAfter < 0, x.DropAfter < 0, x.Timeout < 0, x.Shards < 0:
		return x, fmt.Errorf("loadgen: MaxInflight, LateAfter, DropAfter, Timeout and Shards must not be negative")
	}
	return x, nil
}

// engine is the state of one run.
type engine struct {
	cfg      Config
	target   Target
	start    time.Time
	measFrom time.Time // start + warm-up
	measTo   time.Time // end of the measured window
	shards   []*shard
	inflight atomic.Int64
}

// Run sends load to target as cfg says and returns the report. It returns
// when the run is over and every request it started has finished: after
// warm-up + duration, plus the tail of the requests still in flight (bounded
// by Timeout), or at once when ctx is cancelled — then the requests in
// flight are cancelled, the report covers what was measured so far, is
// marked Interrupted, and the error is ctx's. No goroutine outlives Run.
func Run(ctx context.Context, cfg Config, target Target) (*Report, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &engine{cfg: c, target: target}
	for range c.Shards {
		e.shards = append(e.shards, newShard())
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	e.start = time.Now()
	e.measFrom = e.start.Add(c.Warmup)
	e.measTo = e.measFrom.Add(c.Duration)

	rot := newRotator(e)
	rotDone := make(chan struct{})
	go func() { defer close(rotDone); rot.loop(runCtx) }()

	if c.Schedule != nil {
		e.open(runCtx)
	} else {
		e.closed(runCtx)
	}
	end := time.Now()
	stop()
	<-rotDone
	rot.flush(end)
	rep := e.report(rot, end, ctx.Err() != nil)
	if ctx.Err() != nil {
		rep.Interrupted = true
		return rep, ctx.Err()
	}
	return rep, nil
}

func (e *engine) measured(intended time.Time) bool {
	return !intended.Before(e.measFrom) && intended.Before(e.measTo)
}

// do sends one request and records it in sh.
func (e *engine) do(ctx context.Context, sh *shard, intended, start time.Time) {
	rctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	res, err := e.target.Do(rctx)
	cancel()
	end := time.Now()
	if err != nil && ctx.Err() != nil {
		return // the run was stopped: not the target's error
	}
	sh.add(sample{intended: intended, start: start, end: end, err: err, res: res}, e.cfg.LateAfter, e.measured(intended))
}

// open runs the open model: a dispatcher hands each intended start time to
// an idle worker, starting new workers up to MaxInflight.
func (e *engine) open(ctx context.Context) {
	work := make(chan time.Time)
	var wg sync.WaitGroup
	workers := 0
	spawn := func() {
		workers++
		sh := e.shards[workers%len(e.shards)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for intended := range work {
				e.do(ctx, sh, intended, time.Now())
				e.inflight.Add(-1)
			}
		}()
	}
	e.dispatch(ctx, work, func() bool {
		if workers >= e.cfg.MaxInflight {
			return false
		}
		spawn()
		return true
	})
	close(work)
	wg.Wait()
}

// dispatch walks the schedule. A request whose time has come goes to an
// idle worker; if none is idle, a new one is started (grow), unless
// MaxInflight workers are busy: then the request waits for one until its
// intended time + DropAfter, and is dropped if none frees up by then.
func (e *engine) dispatch(ctx context.Context, work chan<- time.Time, grow func() bool) {
	total := e.measTo.Sub(e.start)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	sh := e.shards[0]
	for i := int64(0); ; i++ {
		off, ok := e.cfg.Schedule.Offset(i)
		if !ok || off >= total {
			return
		}
		intended := e.start.Add(off)
		if !e.waitUntil(ctx, timer, intended) {
			return
		}
		e.inflight.Add(1)
		select {
		case work <- intended:
			continue
		default:
		}
		grow()
		deadline := intended.Add(e.cfg.DropAfter)
		d := time.Until(deadline)
		if d <= 0 {
			e.inflight.Add(-1)
			sh.drop(e.measured(intended))
			continue
		}
		timer.Reset(d)
		select {
		case work <- intended:
		case <-timer.C:
			e.inflight.Add(-1)
			sh.drop(e.measured(intended))
		case <-ctx.Done():
			e.inflight.Add(-1)
			return
		}
	}
}

// Pacing. The runtime's timers wake from epoll with millisecond
// granularity for waits under a millisecond, which would add up to 1 ms of
// lag to every request. So a wait parks on the timer until fineSlack before
// the intended start, then nanosleeps the rest (precise to tens of
// microseconds). A wait that is already shorter than fineSlack first yields
// (runtime.Gosched), so that the worker just handed a request runs instead
// of waiting behind a P held in the nanosleep. Waits under fineMin (rates
// above ~4000/s) use the runtime timer alone: requests then leave in bursts
// of up to 1 ms (visible as lag), which costs far less CPU than a syscall
// per request.
const (
	fineSlack = time.Millisecond
	fineMin   = 250 * time.Microsecond
)

// waitUntil sleeps until t; false when ctx was cancelled first.
func (e *engine) waitUntil(ctx context.Context, timer *time.Timer, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	switch {
	case d > fineSlack:
		timer.Reset(d - fineSlack)
	case d < fineMin:
		timer.Reset(d)
	default:
		runtime.Gosched() // let the worker just handed a request run first
	}
	if d > fineSlack || d < fineMin {
		select {
		case <-timer.C:
		case <-ctx.Done():
			return false
		}
	}
	if d := time.Until(t); d > 0 {
		fineSleep(d)
	}
	return ctx.Err() == nil
}

// closed runs the closed model: Concurrency workers, each sending its next
// request as soon as the previous one completes, until the end of the run.
func (e *engine) closed(ctx context.Context) {
	var wg sync.WaitGroup
	for w := range e.cfg.Concurrency {
		sh := e.shards[w%len(e.shards)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				now := time.Now()
				if !now.Before(e.measTo) {
					return
				}
				e.inflight.Add(1)
				e.do(ctx, sh, now, now)
				e.inflight.Add(-1)
			}
		}()
	}
	wg.Wait()
}
