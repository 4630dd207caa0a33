package source

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/poolpilot/poolpilot"
)

type stub struct {
	name  string
	delay time.Duration
	err   error
	n     atomic.Int64
}

func (s *stub) Name() string      { return s.name }
func (s *stub) Metrics() []string { return []string{s.name + ".m"} }
func (s *stub) Collect(ctx context.Context) ([]poolpilot.Sample, error) {
	s.n.Add(1)
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return []poolpilot.Sample{{Metric: s.name + ".m", Value: 1}}, s.err
}

func TestCollectAllAndProvided(t *testing.T) {
	a, b := &stub{name: "a"}, &stub{name: "b", err: errors.New("half broken")}
	ss, errs := CollectAll(context.Background(), []Source{a, b})
	if len(ss) != 2 || len(errs) != 1 || errs[0].Error() != "source b: half broken" {
		t.Fatalf("samples %v errors %v", ss, errs)
	}
	if p := Provided([]Source{a, b}); !p["a.m"] || !p["b.m"] || len(p) != 2 {
		t.Fatalf("provided %v", p)
	}
	g := Gaps([]string{"x", "y"}, "i", "s", time.Unix(0, 0), "down")
	if len(g) != 2 || !g[1].Gap || g[1].Instance != "i" || g[1].Reason != "down" {
		t.Fatalf("gaps %+v", g)
	}
}

func TestRunKeepsASlowSourceFromDelayingAFastOne(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fast, slow := &stub{name: "fast"}, &stub{name: "slow", delay: time.Hour}
	var mu sync.Mutex
	got := map[string]int{}
	observe := func(ss []poolpilot.Sample) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range ss {
			got[s.Metric]++
		}
	}
	var wg sync.WaitGroup
	for _, s := range []Source{fast, slow} {
		wg.Add(1)
		go func() { defer wg.Done(); Run(ctx, s, 10*time.Millisecond, observe, nil) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for fast.n.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatal("the fast source did not run 5 times")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if got["fast.m"] < 4 || got["slow.m"] != 0 || slow.n.Load() != 1 {
		t.Fatalf("observed %v, slow ran %d times", got, slow.n.Load())
	}
}

func TestStartCollectsFirstThenPolls(t *testing.T) {
	a := &stub{name: "a"}
	var mu sync.Mutex
	n := 0
	stop := Start(context.Background(), []Source{a}, 10*time.Millisecond, func(ss ...poolpilot.Sample) {
		mu.Lock()
		n += len(ss)
		mu.Unlock()
	}, nil)
	mu.Lock()
	first := n
	mu.Unlock()
	if first != 1 {
		t.Fatalf("%d samples when Start returned, want the first collection's 1", first)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.n.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no polling after Start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop() // returns only once every poller has ended
	goleak.VerifyNone(t)
}
