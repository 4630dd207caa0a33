package source

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
)

// Source collects samples.
type Source interface {
	// Name identifies the source in messages ("health", "pgstat", …).
	Name() string
	// Metrics lists the Sample.Metric names the source provides.
	Metrics() []string
	// Collect observes every metric once. A failed observation is a Sample
	// with Gap set, not an error; the error is for a source that could not
	// run at all (ctx cancelled, misconfigured). Samples returned with an
	// error are still valid.
	Collect(ctx context.Context) ([]poolpilot.Sample, error)
}

// CollectAll runs Collect on every source concurrently and returns all
// samples, plus one error per failed source (each naming it).
func CollectAll(ctx context.Context, sources []Source) ([]poolpilot.Sample, []error) {
	type result struct {
		samples []poolpilot.Sample
		err     error
	}
	results := make([]result, len(sources))
	var wg sync.WaitGroup
	for i, s := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ss, err := s.Collect(ctx)
			if err != nil {
				err = fmt.Errorf("source %s: %w", s.Name(), err)
			}
			results[i] = result{ss, err}
		}()
	}
	wg.Wait()
	var out []poolpilot.Sample
	var errs []error
	for _, r := range results {
		out = append(out, r.samples...)
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	return out, errs
}

// Provided returns the set of metrics the sources provide.
func Provided(sources []Source) map[string]bool {
	out := map[string]bool{}
	for _, s := range sources {
		for _, m := range s.Metrics() {
			out[m] = true
		}
	}
	return out
}

// Gaps returns a gap sample for each metric, for a source that could not
// observe any of them.
func Gaps(metrics []string, instance, src string, now time.Time, reason string) []poolpilot.Sample {
	out := make([]poolpilot.Sample, 0, len(metrics))
	for _, m := range metrics {
		out = append(out, poolpilot.Sample{Metric: m, Instance: instance, Time: now, Gap: true, Reason: reason, Source: src})
	}
	return out
}

// Run collects from src every interval until ctx ends, passing the samples
// to observe and any error to onErr (which may be nil). A collection that
// overruns the interval delays the next one instead of piling up, and a
// slow source never delays another: run one Run per source.
func Run(ctx context.Context, src Source, interval time.Duration, observe func([]poolpilot.Sample), onErr func(error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ss, err := src.Collect(ctx)
		if ctx.Err() != nil {
			return
		}
		observe(ss)
		if err != nil && onErr != nil {
			onErr(fmt.Errorf("source %s: %w", src.Name(), err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Start collects once from every source (concurrently, before it returns),
// then keeps each source polling on its own ticker every interval — so
// that a slow source never makes the others' samples stale — until ctx
// ends or stop is called. stop waits for the pollers to end. Every batch of
// samples goes to observe (e.g. a criteria engine's Observe), every error
// to onErr (which may be nil).
func Start(ctx context.Context, sources []Source, interval time.Duration, observe func(...poolpilot.Sample), onErr func(error)) (stop func()) {
	samples, errs := CollectAll(ctx, sources)
	observe(samples...)
	for _, err := range errs {
		if onErr != nil {
			onErr(err)
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, s := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTimer(interval)
			defer t.Stop()
			select {
			case <-rctx.Done():
				return
			case <-t.C:
			}
			Run(rctx, s, interval, func(ss []poolpilot.Sample) { observe(ss...) }, onErr)
		}()
	}
	return func() { cancel(); wg.Wait() }
}
