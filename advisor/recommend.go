package advisor

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Rules of the recommendation.
const (
	// PeakShare: the recommended max is the smallest measured concurrency
	// reaching this share of the peak throughput.
	PeakShare = 0.95
	// DefaultP95Factor: without an explicit bound, a step's p95 may be at
	// most this multiple of the p95 at the peak-throughput step.
	DefaultP95Factor = 2.0
	// MaxStepErrorRate: a step with more errors than this is never
	// recommended.
	MaxStepErrorRate = 0.01
	// MinShare: min is max divided by this, rounded up.
	MinShare = 4
	// FarAbove: Check warns when a plan's max exceeds the recommendation
	// by more than this factor.
	FarAbove = 2.0
)

// Methods of a recommendation.
const (
	MethodUSL       = "usl"       // from the fitted Universal Scalability Law
	MethodEmpirical = "empirical" // from the measured steps, when the fit is poor
)

// MaxRoundCV is the noise tolerance of the empirical method: when the
// rounds of one step disagree by a coefficient of variation (sample
// standard deviation over mean of their throughputs) above it, the
// measurements are noise and no recommendation is made.
const MaxRoundCV = 0.10

// Recommendation is the advisor's answer for one instance's pool.
type Recommendation struct {
	Max    int    `json:"max"` // 0 when refused
	Min    int    `json:"min"` // 0 when refused
	Reason string `json:"reason"`
	// Refused is set when the data do not support a recommendation; Reason
	// then says why.
	Refused bool `json:"refused"`
	// Method is MethodUSL or MethodEmpirical ("" when refused).
	Method string `json:"method,omitempty"`
	// R2 is the fit quality (R² of the USL fit on throughput); null when
	// there is no fit.
	R2             *float64 `json:"r2,omitempty"`
	PeakThroughput float64  `json:"peak_throughput"`
	PeakAt         int      `json:"peak_at"` // concurrency of the peak-throughput step
	Throughput     float64  `json:"throughput"`
	P95MS          float64  `json:"p95_ms"`
	P95BoundMS     float64  `json:"p95_bound_ms"`
}

// ErrRefused marks a refusal to recommend.
var ErrRefused = errors.New("no recommendation")

func refuse(format string, a ...any) (Recommendation, error) {
	r := Recommendation{Refused: true, Reason: fmt.Sprintf(format, a...)}
	return r, fmt.Errorf("%w: %s", ErrRefused, r.Reason)
}

// Recommend picks max and min from the measured steps and the fit.
//
// When the fit is Good (method usl), the fitted curve stands for
// throughput, so that one noisy step neither makes nor breaks a size: the
// peak is the highest fitted throughput over the measured concurrencies,
// and max is the smallest measured concurrency whose fitted throughput
// reaches PeakShare of it, with a measured p95 within p95Bound (0:
// DefaultP95Factor × the p95 measured at the peak) and at most
// MaxStepErrorRate errors. When the fit failed or is poor, see
// recommendEmpirical. min is ceil(max/MinShare). It refuses (Refused set,
// error wrapping ErrRefused) when fewer than MinSteps steps were measured
// or no step meets the rule.
func Recommend(steps []Step, fit *USL, fitErr error, p95Bound time.Duration) (Recommendation, error) {
	if len(steps) < MinSteps {
		return refuse("only %d steps were measured; a recommendation needs at least %d (raise --max or the time budget)", len(steps), MinSteps)
	}
	if fitErr != nil || fit == nil || !fit.Good() {
		return recommendEmpirical(steps, fit, fitErr, p95Bound)
	}
	var peak *Step
	for i, s := range steps {
		if s.ErrorRate() <= MaxStepErrorRate && (peak == nil || fit.X(float64(s.Concurrency)) > fit.X(float64(peak.Concurrency))) {
			peak = &steps[i]
		}
	}
	if peak == nil {
		return refuse("every step failed more than %.0f%% of its requests", 100*MaxStepErrorRate)
	}
	peakX := fit.X(float64(peak.Concurrency))
	bound := boundMS(p95Bound, peak.P95MS)
	r2 := fit.R2
	for _, s := range steps {
		fx := fit.X(float64(s.Concurrency))
		if s.ErrorRate() > MaxStepErrorRate || fx < PeakShare*peakX || s.P95MS > bound {
			continue
		}
		r := Recommendation{Max: s.Concurrency, Min: minOf(s.Concurrency), Method: MethodUSL, R2: &r2,
			PeakThroughput: peakX, PeakAt: peak.Concurrency, Throughput: s.Throughput, P95MS: s.P95MS, P95BoundMS: bound}
		r.Reason = fmt.Sprintf("max %d reaches %.0f%% of the peak throughput (fitted %.0f/s of %.0f/s at %d; measured %.0f/s) with p95 %s ms within the bound %s ms; larger pools add no throughput, only queueing in the database",
			r.Max, 100*fx/peakX, fx, peakX, peak.Concurrency, s.Throughput, ms(s.P95MS), ms(bound))
		return r, nil
	}
	return refuse("no step reached %.0f%% of the fitted peak %.0f/s with p95 within %s ms", 100*PeakShare, peakX, ms(bound))
}

// boundMS is the p95 bound in milliseconds: the explicit one, or
// DefaultP95Factor × the p95 at the peak.
func boundMS(p95Bound time.Duration, peakP95MS float64) float64 {
	if p95Bound > 0 {
		return float64(p95Bound) / float64(time.Millisecond)
	}
	return DefaultP95Factor * peakP95MS
}

func minOf(max int) int { return int(math.Ceil(float64(max) / MinShare)) }

// ms formats milliseconds with three significant digits.
func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// Check is preflight's use of a saved recommendation: it returns a warning
// when planMax is more than FarAbove times the recommended max, "" when it
// is not or when rec is a refusal (nothing to compare with).
func Check(planMax int, rec Recommendation) string {
	if rec.Refused || rec.Max <= 0 || float64(planMax) <= FarAbove*float64(rec.Max) {
		return ""
	}
	return fmt.Sprintf("the plan's max %d is %.1f× the measured recommendation %d (poolpilot size: %s); above it throughput does not grow, latency does",
		planMax, float64(planMax)/float64(rec.Max), rec.Max, rec.Reason)
}
