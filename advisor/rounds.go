package advisor

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/poolpilot/poolpilot/loadgen"
)

// moreRounds measures the first round's concurrencies again, Rounds − 1
// times, alternately down and up the ladder, and replaces each step by the
// medians of its measurements. It stops early, keeping what it measured,
// on the time budget or an interruption.
func moreRounds(ctx context.Context, pool Pool, target loadgen.Target, c SweepConfig, start time.Time, res *SweepResult) (*SweepResult, error) {
	meas := make([][]Step, len(res.Steps))
	for i, s := range res.Steps {
		meas[i] = []Step{s}
	}
	defer func() {
		for i := range res.Steps {
			res.Steps[i] = medianStep(meas[i])
		}
	}()
	for r := 2; r <= c.Rounds; r++ {
		idx := make([]int, len(meas))
		for i := range idx {
			idx[i] = i
		}
		if r%2 == 0 {
			slices.Reverse(idx)
		}
		for k, i := range idx {
			n := res.Steps[i].Concurrency
			if c.MaxTotal > 0 && c.Now().Add(c.Warmup+c.StepDuration).Sub(start) > c.MaxTotal {
				res.Detail += fmt.Sprintf("; round %d of %d cut short by the max total duration %v", r, c.Rounds, c.MaxTotal)
				return res, nil
			}
			st, err := runStep(ctx, pool, target, c, n)
			if err != nil {
				return res, stepFailed(ctx, res, n, err)
			}
			meas[i] = append(meas[i], st)
			if c.OnStep != nil {
				c.OnStep(r, k, len(idx), st)
			}
		}
	}
	return res, nil
}

// medianStep combines measurements of one concurrency: the median of each
// rate, latency and CPU figure, the sums of requests and errors, and the
// first error sample.
func medianStep(ss []Step) Step {
	if len(ss) == 1 {
		return ss[0]
	}
	med := func(f func(Step) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	out := Step{Concurrency: ss[0].Concurrency, Rounds: len(ss), Clients: ss[0].Clients, PoolMax: ss[0].PoolMax,
		Throughput: med(func(s Step) float64 { return s.Throughput }),
		P50MS:      med(func(s Step) float64 { return s.P50MS }),
		P95MS:      med(func(s Step) float64 { return s.P95MS }),
		P99MS:      med(func(s Step) float64 { return s.P99MS }),
		WaitP95MS:  med(func(s Step) float64 { return s.WaitP95MS })}
	var cpus []float64
	for _, s := range ss {
		out.RoundThroughputs = append(out.RoundThroughputs, s.Throughput)
		out.Requests += s.Requests
		out.Errors += s.Errors
		if out.ErrorSample == "" {
			out.ErrorSample = s.ErrorSample
		}
		if s.DBCPU != nil {
			cpus = append(cpus, *s.DBCPU)
		}
	}
	if len(cpus) > 0 {
		slices.Sort(cpus)
		v := cpus[len(cpus)/2]
		out.DBCPU = &v
	}
	return out
}
