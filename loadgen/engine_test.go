package loadgen

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var trivial = TargetFunc(func(context.Context) (Result, error) { return Result{}, nil })

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestRateAccuracy(t *testing.T) {
	t.Parallel()
	s, _ := Constant(200)
	rep, err := Run(context.Background(), Config{Schedule: s, Warmup: 500 * time.Millisecond, Duration: 3 * time.Second}, trivial)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 600 || rep.AchievedRate != 200 {
		t.Errorf("requests %d achieved %v; want exactly the 600 scheduled in the 3 s window, 200/s", rep.Requests, rep.AchievedRate)
	}
	if rep.TargetRate != 200 {
		t.Errorf("target rate %v, want 200", rep.TargetRate)
	}
	if d := math.Abs(rep.AchievedRate-200) / 200; d > 0.01 {
		t.Errorf("achieved %v/s is %.2f%% off the target 200/s (requests %d, dropped %d)", rep.AchievedRate, 100*d, rep.Requests, rep.Dropped)
	}
	if rep.Dropped != 0 || rep.Errors != 0 {
		t.Errorf("dropped %d, errors %d; want none against a trivial target", rep.Dropped, rep.Errors)
	}
	if n := len(rep.Series); n < 3 || n > 5 {
		t.Errorf("series has %d seconds for a 3.5 s run", n)
	}
	// The requests are sent on time, not just counted: every whole second
	// after the first completes close to 200 requests.
	for _, sec := range rep.Series[1:3] {
		if sec.Requests < 190 || sec.Requests > 210 {
			t.Errorf("second %d completed %d requests, want 200 ± 5%%", sec.T, sec.Requests)
		}
	}
	if !rep.Series[0].Warmup {
		t.Error("first second not flagged as warm-up")
	}
}

// staller is a target that stalls for one second: the first request that
// starts after `at` blocks until at+1s, as a database lock would.
type staller struct {
	at     time.Time
	mu     sync.Mutex
	stalls int
}

func (s *staller) Do(ctx context.Context) (Result, error) {
	now := time.Now()
	if now.Before(s.at) {
		return Result{}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if end := s.at.Add(time.Second); now.Before(end) {
		s.stalls++
		return Result{}, sleepCtx(ctx, time.Until(end))
	}
	return Result{}, nil
}

// TestCoordinatedOmission runs 100/s for 4 s against a target that stalls
// for 1 s in the middle. With a single worker (a client with one
// connection) the requests due during the stall wait in the generator: a
// service-time clock sees one slow request among 400 (p99 tiny); measured
// from the intended start, a quarter of the requests waited up to 1 s.
func TestCoordinatedOmission(t *testing.T) {
	t.Parallel()
	for _, inflight := range []int{1, 1000} {
		s, _ := Constant(100)
		tg := &staller{at: time.Now().Add(time.Second)}
		rep, err := Run(context.Background(), Config{Schedule: s, Duration: 4 * time.Second, MaxInflight: inflight,
			DropAfter: 5 * time.Second}, tg)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("max-inflight %d: latency %+v service %+v lag %+v late %d", inflight, rep.LatencyMS, rep.ServiceMS, rep.LagMS, rep.Late)
		if rep.Requests != 400 || rep.Dropped != 0 {
			t.Errorf("max-inflight %d: requests %d dropped %d, want 400 and 0", inflight, rep.Requests, rep.Dropped)
		}
		if rep.LatencyMS.P99 < 800 || rep.LatencyMS.P95 < 600 {
			t.Errorf("max-inflight %d: p95 %.1f ms / p99 %.1f ms do not show the 1 s stall", inflight, rep.LatencyMS.P95, rep.LatencyMS.P99)
		}
		if inflight == 1 {
			if rep.ServiceMS.P99 > 200 {
				t.Errorf("service-time p99 %.1f ms: expected the service-time clock to hide the stall", rep.ServiceMS.P99)
			}
			if rep.LagMS.Max < 800 || rep.Late < 50 {
				t.Errorf("lag max %.1f ms, late %d: the backlog behind the stall is not reported", rep.LagMS.Max, rep.Late)
			}
		}
	}
}

func TestDroppedAndLate(t *testing.T) {
	t.Parallel()
	s, _ := Constant(20)
	slow := TargetFunc(func(ctx context.Context) (Result, error) { return Result{}, sleepCtx(ctx, 300*time.Millisecond) })
	rep, err := Run(context.Background(), Config{Schedule: s, Duration: time.Second, MaxInflight: 1,
		DropAfter: 100 * time.Millisecond, LateAfter: 10 * time.Millisecond}, slow)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests+rep.Dropped != 20 {
		t.Errorf("requests %d + dropped %d != 20 scheduled: a request went unaccounted", rep.Requests, rep.Dropped)
	}
	if rep.Dropped < 10 || rep.Late == 0 {
		t.Errorf("dropped %d late %d: one worker at 300 ms per request cannot keep up with 20/s", rep.Dropped, rep.Late)
	}
	if rep.AchievedRate >= rep.TargetRate {
		t.Errorf("achieved %v >= target %v despite drops", rep.AchievedRate, rep.TargetRate)
	}
}

func TestCancelStopsAtOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 1)
	block := TargetFunc(func(ctx context.Context) (Result, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return Result{}, ctx.Err()
	})
	go func() { <-started; cancel() }()
	s, _ := Constant(100)
	t0 := time.Now()
	rep, err := Run(ctx, Config{Schedule: s, Duration: time.Minute, Timeout: time.Minute}, block)
	if !errors.Is(err, context.Canceled) || rep == nil || !rep.Interrupted {
		t.Fatalf("Run = %v, %v; want an interrupted report and context.Canceled", rep, err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Run took %v to stop after cancel", d)
	}
	if rep.Errors != 0 {
		t.Errorf("%d errors: requests cancelled by the stop are not the target's errors", rep.Errors)
	}
}

func TestClosedModel(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	active, peak := 0, 0
	tg := TargetFunc(func(ctx context.Context) (Result, error) {
		mu.Lock()
		active++
		peak = max(peak, active)
		mu.Unlock()
		err := sleepCtx(ctx, time.Millisecond)
		mu.Lock()
		active--
		mu.Unlock()
		return Result{Op: "x", Violation: nil}, err
	})
	rep, err := Run(context.Background(), Config{Concurrency: 4, Duration: time.Second}, tg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Model != "closed" || rep.TargetRate != 0 || rep.Requests < 100 || rep.LagMS.Max != 0 {
		t.Errorf("closed model report: model %s target %v requests %d lag %+v", rep.Model, rep.TargetRate, rep.Requests, rep.LagMS)
	}
	if peak > 4 {
		t.Errorf("peak concurrency %d above 4", peak)
	}
	if rep.Ops["x"] != rep.Requests {
		t.Errorf("ops %v, want x=%d", rep.Ops, rep.Requests)
	}
}

func TestErrorsAndViolationsCountedApart(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	n := 0
	tg := TargetFunc(func(context.Context) (Result, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		switch n % 4 {
		case 1:
			return Result{}, &StatusError{Code: 503}
		case 2:
			return Result{Violation: errors.New("balance 10 != 20")}, nil
		}
		return Result{}, nil
	})
	s, _ := Constant(200)
	rep, err := Run(context.Background(), Config{Schedule: s, Duration: 500 * time.Millisecond}, tg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 100 || rep.Errors != 25 || rep.Violations != 25 || rep.ErrorRate != 0.25 {
		t.Errorf("requests %d errors %d violations %d error_rate %v; want 100 25 25 0.25", rep.Requests, rep.Errors, rep.Violations, rep.ErrorRate)
	}
	if rep.ErrorKinds["http_503"] != 25 || len(rep.ViolationSamples) == 0 {
		t.Errorf("error kinds %v, violation samples %v", rep.ErrorKinds, rep.ViolationSamples)
	}
}

func TestConfigRejected(t *testing.T) {
	s, _ := Constant(10)
	for _, c := range []Config{
		{Duration: time.Second},
		{Schedule: s, Concurrency: 2, Duration: time.Second},
		{Schedule: s},
		{Schedule: s, Duration: time.Second, Warmup: -1},
		{Concurrency: -1, Duration: time.Second},
		{Schedule: s, Duration: time.Second, MaxInflight: -5},
	} {
		if _, err := Run(context.Background(), c, trivial); err == nil {
			t.Errorf("Run(%+v) accepted", c)
		}
	}
}

func TestRampRun(t *testing.T) {
	t.Parallel()
	s, err := ParseRamp("0:200/1s")
	if err != nil {
		t.Fatal(err)
	}
	// 1 s of ramp (100 requests) then 1 s held at 200/s (200 requests).
	rep, err := Run(context.Background(), Config{Schedule: s, Duration: 2 * time.Second}, trivial)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests+rep.Dropped != 300 || rep.TargetRate != 150 {
		t.Errorf("requests %d + dropped %d, target rate %v; want 300 scheduled, a mean of 150/s", rep.Requests, rep.Dropped, rep.TargetRate)
	}
	if n := len(rep.Series); n < 2 || rep.Series[0].Requests > rep.Series[1].Requests {
		t.Errorf("series %+v: the ramp's first second should carry fewer requests than the second", rep.Series)
	} else if rep.Series[0].TargetRate != 100 || rep.Series[1].TargetRate != 200 {
		t.Errorf("per-second target rates %v, %v; want the schedule's means 100 and 200", rep.Series[0].TargetRate, rep.Series[1].TargetRate)
	}
}
