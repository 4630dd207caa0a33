package sim

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// Clock is a fake clock that only moves when advanced.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Wait advances the clock by d (the controller's Wait hook).
func (c *Clock) Wait(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

type pending struct {
	size plan.PoolSize
	at   time.Time
}

// Fleet is a fake fleet: Driver and Prober at once. An applied size shows
// in Health once RestartDelay has passed on the clock (a rolling restart).
type Fleet struct {
	Clock        *Clock
	RestartDelay time.Duration
	// FailOn makes Apply fail on this instance (forward change only).
	FailOn string
	From   plan.PoolSize

	mu      sync.Mutex
	size    map[string]plan.PoolSize
	pending map[string]pending
	Applies int
	Healths int
}

// NewFleet returns a fleet of the plan's instances, all at from.
func NewFleet(p *plan.Plan, clock *Clock, restart time.Duration) *Fleet {
	f := &Fleet{Clock: clock, RestartDelay: restart, From: p.Change.From, size: map[string]plan.PoolSize{}, pending: map[string]pending{}}
	for _, in := range p.Instances {
		f.size[in.Name] = p.Change.From
	}
	return f
}

// Name is "sim".
func (f *Fleet) Name() string { return "sim" }

// Apply schedules size on the instance.
func (f *Fleet) Apply(_ context.Context, in plan.Instance, size plan.PoolSize, log io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Applies++
	if in.Name == f.FailOn && size != f.From {
		return fmt.Errorf("instance %s refused the change", in.Name)
	}
	f.pending[in.Name] = pending{size: size, at: f.Clock.Now().Add(f.RestartDelay)}
	fmt.Fprintf(log, "%s -> %d:%d\n", in.Name, size.Max, size.Min)
	return nil
}

// Health reports the instance's size.
func (f *Fleet) Health(_ context.Context, in plan.Instance) (poolpilot.Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Healths++
	if p, ok := f.pending[in.Name]; ok && !f.Clock.Now().Before(p.at) {
		f.size[in.Name] = p.size
		delete(f.pending, in.Name)
	}
	s := f.size[in.Name]
	return poolpilot.Health{Status: "ok", Pool: poolpilot.PoolStats{Max: s.Max, Min: s.Min, Total: s.Min}}, nil
}

// Count returns how many instances are at size.
func (f *Fleet) Count(size plan.PoolSize) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.size {
		if s == size {
			n++
		}
	}
	return n
}

// Recorder counts what the controller records, keeping only sizes.
type Recorder struct {
	mu         sync.Mutex
	Events     int
	Writes     int
	WriteBytes int64
	Files      map[string]int // name → last size
}

// Record counts an audit event.
func (r *Recorder) Record(evidence.Event) error {
	r.mu.Lock()
	r.Events++
	r.mu.Unlock()
	return nil
}

// WriteFile counts an evidence file write.
func (r *Recorder) WriteFile(name string, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Files == nil {
		r.Files = map[string]int{}
	}
	r.Writes++
	r.WriteBytes += int64(len(data))
	r.Files[name] = len(data)
	return nil
}

// Plan returns the seed's plan over n instances with the given batch size.
func Plan(n, batch int) (*plan.Plan, error) {
	o := plan.SeedInitOptions()
	o.HealthURLs = make([]string, n)
	for i := range o.HealthURLs {
		o.HealthURLs[i] = fmt.Sprintf("http://10.0.%d.%d:8080/healthz", i/250, i%250+1)
	}
	b, err := plan.Init(o)
	if err != nil {
		return nil, err
	}
	p, err := plan.Parse(b)
	if err != nil {
		return nil, err
	}
	p.Rollout.BatchSize = batch
	p.Rollout.VerifyTimeout = poolpilot.Duration(5 * time.Minute)
	return p, nil
}

// Options is one simulated run.
type Options struct {
	Instances, Batch int
	RestartDelay     time.Duration
	// Rollback makes the soak fire a trigger after Detect.
	Rollback bool
	// Detect is how long the soak runs before its verdict (simulated).
	Detect time.Duration
	// FailAt makes the apply of this instance index fail (-1: none).
	FailAt int
	// Dir holds the journal.
	Dir string
	// Recorder receives events and files (nil: a counting Recorder).
	Recorder change.Recorder
}

// Result is what a simulated run did.
type Result struct {
	Outcome   change.Outcome
	Simulated time.Duration // fake-clock time from start to end
	Fleet     *Fleet
	Journal   int // records
}

// Run builds the plan and the fleet and runs the controller.
func Run(ctx context.Context, o Options) (Result, error) {
	p, err := Plan(o.Instances, o.Batch)
	if err != nil {
		return Result{}, err
	}
	clock := NewClock(time.Date(2026, 2, 1, 2, 30, 0, 0, time.UTC))
	fleet := NewFleet(p, clock, o.RestartDelay)
	if o.FailAt >= 0 && o.FailAt < len(p.Instances) {
		fleet.FailOn = p.Instances[o.FailAt].Name
	}
	j, err := change.OpenJournal(o.Dir)
	if err != nil {
		return Result{}, err
	}
	defer j.Close()
	rec := o.Recorder
	if rec == nil {
		rec = &Recorder{}
	}
	c := &change.Controller{Plan: p, Journal: j, Driver: fleet, Prober: fleet, Recorder: rec, Clock: clock, Wait: clock.Wait}
	c.Phases.Soak = func(context.Context) (change.Verdict, error) {
		clock.Advance(o.Detect)
		if o.Rollback {
			return change.Verdict{Rollback: true, Criterion: "fleet-error-rate-high", Class: poolpilot.ClassP0, Reason: "fleet error rate 0.02 > 0.01 for 5m"}, nil
		}
		return change.Verdict{}, nil
	}
	start := clock.Now()
	out, err := c.Run(ctx)
	return Result{Outcome: out, Simulated: clock.Now().Sub(start), Fleet: fleet, Journal: len(j.Records())}, err
}
