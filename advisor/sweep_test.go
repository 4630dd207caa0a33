package advisor

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/loadgen"
)

// fakePool stands in for the pool's resize and statistics only; the
// workload below is simulated, so no database is involved.
type fakePool struct{ sizes []int }

func (p *fakePool) Resize(_ context.Context, max, _ int) error {
	p.sizes = append(p.sizes, max)
	return nil
}
func (p *fakePool) Stats() poolpilot.PoolStats { return poolpilot.PoolStats{WaitP95MS: 0.5} }

// crowded is a simulated service whose latency grows as N^1.5 with the
// requests in flight, so its throughput falls as 1/sqrt(N).
func crowded() loadgen.Target {
	var inflight atomic.Int64
	return loadgen.TargetFunc(func(ctx context.Context) (loadgen.Result, error) {
		n := float64(inflight.Add(1))
		defer inflight.Add(-1)
		t := time.NewTimer(time.Duration(float64(2*time.Millisecond) * math.Pow(n, 1.5)))
		defer t.Stop()
		select {
		case <-t.C:
			return loadgen.Result{}, nil
		case <-ctx.Done():
			return loadgen.Result{}, ctx.Err()
		}
	})
}

func TestSweepStopsOnceThroughputHasFallen(t *testing.T) {
	pool := &fakePool{}
	res, err := Sweep(context.Background(), pool, crowded(), SweepConfig{Max: 64, StepDuration: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopFallen || len(res.Steps) >= len(Ladder(64)) {
		t.Fatalf("stopped %q after %d steps (%+v); want %q well before the end of the ladder", res.Stopped, len(res.Steps), res.Steps, StopFallen)
	}
	for i, s := range res.Steps {
		if pool.sizes[i] != s.Concurrency || s.Concurrency != Ladder(64)[i] || s.Requests == 0 || s.WaitP95MS != 0.5 {
			t.Errorf("step %d: %+v (pool resized to %v)", i, s, pool.sizes)
		}
	}
}

func TestSweepCancelledMidwayReturnsCompletedSteps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := SweepConfig{Max: 8, StepDuration: 100 * time.Millisecond, DropRatio: 0.01,
		OnStep: func(_, i, _ int, _ Step) {
			if i == 1 {
				cancel() // Ctrl-C during the third step
			}
		}}
	res, err := Sweep(ctx, &fakePool{}, crowded(), cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if res == nil || len(res.Steps) != 2 || res.Stopped != StopInterrupted {
		t.Fatalf("result %+v; want the 2 completed steps and stopped %q", res, StopInterrupted)
	}
}

func TestSweepHonoursTheTimeBudget(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { now = now.Add(time.Second); return now } // each look costs a second
	res, err := Sweep(context.Background(), &fakePool{}, crowded(), SweepConfig{
		Max: 64, StepDuration: 50 * time.Millisecond, MaxTotal: 3500 * time.Millisecond, DropRatio: 0.01, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopTimeBudget || len(res.Steps) != 3 {
		t.Fatalf("stopped %q after %d steps; want %q after 3 (looks at 2, 3, 4 s fit in 3.5 s, 5 s does not)", res.Stopped, len(res.Steps), StopTimeBudget)
	}
}

func TestSweepStopsOnErrors(t *testing.T) {
	failing := loadgen.TargetFunc(func(context.Context) (loadgen.Result, error) { return loadgen.Result{}, errors.New("boom") })
	res, err := Sweep(context.Background(), &fakePool{}, failing, SweepConfig{Max: 8, StepDuration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopErrors || len(res.Steps) != 1 || res.Steps[0].ErrorSample == "" {
		t.Fatalf("result %+v; want a stop on errors after one step with a sample", res)
	}
}

func TestSweepRejectsBadConfig(t *testing.T) {
	for _, c := range []SweepConfig{{Max: 0, StepDuration: time.Second}, {Max: 4}, {Max: 4, StepDuration: time.Second, Warmup: -1}} {
		if _, err := Sweep(context.Background(), &fakePool{}, crowded(), c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestLadder(t *testing.T) {
	for max, want := range map[int][]int{
		1: {1}, 2: {1, 2}, 8: {1, 2, 3, 4, 6, 8}, 10: {1, 2, 3, 4, 6, 8, 10},
		256: {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256},
	} {
		got := Ladder(max)
		if len(got) != len(want) {
			t.Errorf("Ladder(%d) = %v, want %v", max, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("Ladder(%d) = %v, want %v", max, got, want)
				break
			}
		}
	}
}

func TestSweepRoundsTakeMedians(t *testing.T) {
	var seen []int
	cfg := SweepConfig{Max: 4, StepDuration: 50 * time.Millisecond, Rounds: 3, DropRatio: 0.01,
		OnStep: func(r, _, _ int, s Step) { seen = append(seen, r*100+s.Concurrency) }}
	res, err := Sweep(context.Background(), &fakePool{}, crowded(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{101, 102, 103, 104, 204, 203, 202, 201, 301, 302, 303, 304}
	if !slices.Equal(seen, want) {
		t.Errorf("measurement order %v, want %v", seen, want)
	}
	if len(res.Steps) != 4 || res.Steps[2].Concurrency != 3 || res.Steps[2].Rounds != 3 {
		t.Errorf("steps %+v", res.Steps)
	}
	x := 7.0
	m := medianStep([]Step{{Concurrency: 2, Throughput: 10, Requests: 5, DBCPU: &x}, {Concurrency: 2, Throughput: 100, Requests: 5, Errors: 1}, {Concurrency: 2, Throughput: 20, Requests: 5}})
	if m.Throughput != 20 || m.Requests != 15 || m.Errors != 1 || m.Rounds != 3 || m.DBCPU == nil || *m.DBCPU != 7 {
		t.Errorf("median step %+v", m)
	}
}

// servicePool stands in for a service's pool: Stats shows the size it was
// last resized to, except at wrongAt (someone else resized it).
type servicePool struct {
	cur     atomic.Int64
	wrongAt int
}

func (p *servicePool) Resize(_ context.Context, max, _ int) error {
	p.cur.Store(int64(max))
	return nil
}

func (p *servicePool) Stats() poolpilot.PoolStats {
	n := int(p.cur.Load())
	if n == p.wrongAt {
		n = 99
	}
	return poolpilot.PoolStats{Max: n}
}

// zigzag answers in 1 ms at odd pool sizes and 6 ms at even ones: a
// throughput no scalability law follows.
func zigzag(p *servicePool) loadgen.Target {
	return loadgen.TargetFunc(func(ctx context.Context) (loadgen.Result, error) {
		d := 6 * time.Millisecond
		if p.cur.Load()%2 == 1 {
			d = time.Millisecond
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return loadgen.Result{}, nil
		case <-ctx.Done():
			return loadgen.Result{}, ctx.Err()
		}
	})
}

func TestSweepServiceConfirmsAPoorFitWithASecondRound(t *testing.T) {
	p := &servicePool{}
	res, err := Sweep(context.Background(), p, zigzag(p), SweepConfig{Max: 8, StepDuration: 100 * time.Millisecond, Clients: 4, ConfirmPoorFit: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rounds != 2 || !strings.Contains(res.Detail, "a second round was measured because the USL fit is poor") {
		t.Fatalf("rounds %d, detail %q; want a second round for a poor fit", res.Rounds, res.Detail)
	}
	for _, s := range res.Steps {
		if s.Clients != 4 || s.PoolMax != s.Concurrency || len(s.RoundThroughputs) != 2 || s.Rounds != 2 {
			t.Errorf("step %+v", s)
		}
	}
	p = &servicePool{wrongAt: 3}
	_, err = Sweep(context.Background(), p, zigzag(p), SweepConfig{Max: 8, StepDuration: 50 * time.Millisecond, Clients: 4})
	if err == nil || !strings.Contains(err.Error(), "read back after the step is 99, not 3") {
		t.Errorf("a pool resized by someone else during the step: %v", err)
	}
}
