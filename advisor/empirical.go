package advisor

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// recommendEmpirical recommends from the measurements themselves when the
// USL fit failed or is poor (a plateau, a super-linear start: shapes the
// law does not have). The peak is the highest measured throughput of the
// steps with at most MaxStepErrorRate errors; max is the smallest of them
// reaching PeakShare of it with a measured p95 within the bound. Noise is
// judged on repeated rounds of the same step: when a step's rounds
// disagree by a coefficient of variation above MaxRoundCV it refuses,
// naming the step and its spread; when a step was measured only once,
// noise cannot be told from shape and it refuses too.
func recommendEmpirical(steps []Step, fit *USL, fitErr error, p95Bound time.Duration) (Recommendation, error) {
	why := poorFit(fit, fitErr)
	var peak *Step
	for i, s := range steps {
		if s.ErrorRate() <= MaxStepErrorRate && s.Throughput > 0 && (peak == nil || s.Throughput > peak.Throughput) {
			peak = &steps[i]
		}
	}
	if peak == nil {
		return refuse("%s, and every step failed more than %.0f%% of its requests", why, 100*MaxStepErrorRate)
	}
	worst, once := noisiest(steps)
	switch {
	case len(once) > 0:
		return refuse("%s, and the steps at concurrency %s were measured once, so noise cannot be told from the shape of the curve: measure every step at least twice (--rounds 2, or a larger --max-total so that the second round the command adds completes)",
			why, strings.Join(once, ", "))
	case worst.cv > MaxRoundCV:
		return refuse("the measurements are too noisy: %s, and the %d rounds of the step at concurrency %d disagree (throughput %s/s: coefficient of variation %.1f%%, tolerance %.0f%%); run with a longer --duration-per-step on a quieter machine",
			why, len(worst.step.RoundThroughputs), worst.step.Concurrency, joinRates(worst.step.RoundThroughputs), 100*worst.cv, 100*MaxRoundCV)
	}
	bound := boundMS(p95Bound, peak.P95MS)
	for _, s := range steps {
		if s.ErrorRate() > MaxStepErrorRate || s.Throughput < PeakShare*peak.Throughput || s.P95MS > bound {
			continue
		}
		r := Recommendation{Max: s.Concurrency, Min: minOf(s.Concurrency), Method: MethodEmpirical,
			PeakThroughput: peak.Throughput, PeakAt: peak.Concurrency, Throughput: s.Throughput, P95MS: s.P95MS, P95BoundMS: bound}
		if fit != nil && fitErr == nil {
			r2 := fit.R2
			r.R2 = &r2
		}
		r.Reason = fmt.Sprintf("max %d reaches %.0f%% of the measured peak throughput (%.0f/s of %.0f/s at %d) with p95 %s ms within the bound %s ms; recommended from the measurements (method empirical) because %s, while the rounds of each step agree (largest spread: coefficient of variation %.1f%% at %d, tolerance %.0f%%)",
			r.Max, 100*s.Throughput/peak.Throughput, s.Throughput, peak.Throughput, peak.Concurrency, ms(s.P95MS), ms(bound), why, 100*worst.cv, worst.step.Concurrency, 100*MaxRoundCV)
		return r, nil
	}
	return refuse("%s, and no step reached %.0f%% of the measured peak %.0f/s with p95 within %s ms", why, 100*PeakShare, peak.Throughput, ms(bound))
}

// poorFit says why the fit cannot stand for throughput.
func poorFit(fit *USL, fitErr error) string {
	if fitErr != nil || fit == nil {
		return fmt.Sprintf("the scalability fit failed (%v)", fitErr)
	}
	return fmt.Sprintf("the USL fit is poor (R² = %.3f, want ≥ %.2f; steps %.1f%% off the curve, want ≤ %.0f%%)",
		fit.R2, MinR2, 100*fit.RelRMSE, 100*MaxRelRMSE)
}

type spread struct {
	step Step
	cv   float64
}

// noisiest returns the step (of those with at most MaxStepErrorRate
// errors) whose rounds disagree most, and the concurrencies of the steps
// measured only once.
func noisiest(steps []Step) (worst spread, once []string) {
	worst.cv = -1
	for _, s := range steps {
		if s.ErrorRate() > MaxStepErrorRate {
			continue
		}
		if len(s.RoundThroughputs) < 2 {
			once = append(once, fmt.Sprint(s.Concurrency))
			continue
		}
		if cv := CV(s.RoundThroughputs); cv > worst.cv {
			worst = spread{s, cv}
		}
	}
	return worst, once
}

// CV is the coefficient of variation of v: the sample standard deviation
// over the mean (0 for fewer than two values or a zero mean).
func CV(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	var sum float64
	for _, x := range v {
		sum += x
	}
	mean := sum / float64(len(v))
	if mean == 0 {
		return 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss/float64(len(v)-1)) / math.Abs(mean)
}

func joinRates(v []float64) string {
	var out []string
	for _, x := range v {
		out = append(out, fmt.Sprintf("%.0f", x))
	}
	return strings.Join(out, ", ")
}
