package advisor

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/pgpool"
)

// stepsOf builds steps whose throughput follows u, with p95 = N/X (Little's law).
func stepsOf(u USL, max int) []Step {
	var ss []Step
	for _, n := range Ladder(max) {
		x := u.X(float64(n))
		ss = append(ss, Step{Concurrency: n, Throughput: x, P95MS: 1000 * float64(n) / x, Requests: 1000})
	}
	return ss
}

func fitOf(t *testing.T, ss []Step) (*USL, error) {
	t.Helper()
	var ps []Point
	for _, s := range ss {
		ps = append(ps, Point{float64(s.Concurrency), s.Throughput})
	}
	u, err := FitUSL(ps)
	return &u, err
}

func TestRecommend(t *testing.T) {
	// σ 0.2, κ 0.01: N* ≈ 8.9; throughput at 6 is 96.5% of the peak at 8, at 4 86%.
	ss := stepsOf(USL{Sigma: 0.2, Kappa: 0.01, Lambda: 1000}, 64)
	fit, err := fitOf(t, ss)
	rec, err := Recommend(ss, fit, err, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Max != 6 || rec.Min != 2 || rec.PeakAt != 8 || rec.Refused {
		t.Errorf("recommendation %+v; want max 6, min 2, peak at 8", rec)
	}
	for _, want := range []string{"max 6", "97% of the peak", "at 8", "p95"} {
		if !strings.Contains(rec.Reason, want) {
			t.Errorf("reason %q lacks %q", rec.Reason, want)
		}
	}
	// A tight explicit bound excludes 6 and everything else.
	if rec, err := Recommend(ss, fit, nil, time.Microsecond); !errors.Is(err, ErrRefused) || !rec.Refused {
		t.Errorf("a 1 µs bound: %+v, %v; want a refusal", rec, err)
	}
	// Steps with errors are never recommended.
	ss[4].Errors = 500
	if rec, _ := Recommend(ss, fit, nil, 0); rec.Max != 8 {
		t.Errorf("with the step at 6 failing half its requests: max %d, want 8", rec.Max)
	}
}

func TestRecommendRefuses(t *testing.T) {
	ss := stepsOf(USL{Sigma: 0.05, Kappa: 0.01, Lambda: 1000}, 4)[:3]
	fit, fitErr := fitOf(t, ss)
	rec, err := Recommend(ss, fit, fitErr, 0)
	if !errors.Is(err, ErrRefused) || !rec.Refused || !strings.Contains(rec.Reason, "only 3 steps") {
		t.Errorf("3 steps: %+v %v", rec, err)
	}
	noisy := stepsOf(USL{Sigma: 0.05, Kappa: 0.01, Lambda: 1000}, 64)
	for i := range noisy {
		noisy[i].Throughput = []float64{900, 300, 1000, 250, 950, 280, 990}[i%7]
	}
	fit, fitErr = fitOf(t, noisy)
	rec, err = Recommend(noisy, fit, fitErr, 0)
	if !errors.Is(err, ErrRefused) || !strings.Contains(rec.Reason, "measured once") {
		t.Errorf("noisy data (R² %.2f): %+v %v", fit.R2, rec, err)
	}
}

func TestCheck(t *testing.T) {
	rec := Recommendation{Max: 8, Min: 2, Reason: "max 8 reaches …"}
	if w := Check(16, rec); w != "" {
		t.Errorf("2× is not far above: %q", w)
	}
	if w := Check(200, rec); !strings.Contains(w, "200") || !strings.Contains(w, "25.0×") || !strings.Contains(w, "recommendation 8") {
		t.Errorf("200 against 8: %q", w)
	}
	if w := Check(200, Recommendation{Refused: true}); w != "" {
		t.Errorf("a refusal gives no warning: %q", w)
	}
}

func TestFleetBudget(t *testing.T) {
	l := pgpool.ServerLimits{MaxConnections: 100, SuperuserReserved: 3, OtherConnections: 5}
	plan := &PlanBudget{Max: 200, Instances: 4, Surge: 1}
	b := FleetBudget(l, false, Fleet{Instances: 4, Surge: 1}, 4, plan)
	if b.Available != 92 || b.Needed != 20 || !b.Fits || !b.Judged || b.CarryInstances != 22 {
		t.Errorf("budget %+v", b)
	}
	if p := b.Plan; p.Needed != 1000 || p.Fits || p.CarryInstances != 0 || p.MaxFit != 18 || !strings.Contains(p.Message, "do NOT fit") ||
		!strings.Contains(p.Message, "the largest max that fits is 18; preflight refuses this plan unless the plan's instances hold some of the 5 connections open now") {
		t.Errorf("plan %+v", p)
	}
	if !strings.Contains(b.Message, "(4 instances + 1 surge) × max 4 = 20 connections fits") || !strings.Contains(b.Message, "carries 22 instances") {
		t.Errorf("message %q", b.Message)
	}
	pb := FleetBudget(l, true, Fleet{Instances: 4, Surge: 1}, 4, plan)
	if pb.Judged || !pb.Fits || !pb.Plan.Fits || !strings.Contains(pb.Message, "pooler") {
		t.Errorf("behind a pooler: %+v", pb)
	}
	if nb := FleetBudget(l, false, Fleet{Instances: 1}, 0, nil); nb.Judged {
		t.Errorf("no recommendation judged: %+v", nb)
	}
}

func TestRecommendFlatButTightIsAccepted(t *testing.T) {
	// Throughput flat from 2 on (σ ≈ 1): R² is low because there is little
	// variation to explain, but every step is within a few % of the curve.
	ss := stepsOf(USL{Sigma: 0.9, Kappa: 0.0005, Lambda: 30000}, 32)
	for i := range ss {
		ss[i].Throughput *= 1 + 0.03*float64(i%3-1)
	}
	fit, err := fitOf(t, ss)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Recommend(ss, fit, nil, 0)
	if err != nil || rec.Max > 3 {
		t.Errorf("flat, tight data (R² %.2f, RMS %.3f): %+v, %v; want a small max", fit.R2, fit.RelRMSE, rec, err)
	}
}

func TestRecommendIgnoresOneNoisyStep(t *testing.T) {
	ss := stepsOf(USL{Sigma: 0.2, Kappa: 0.01, Lambda: 1000}, 64)
	ss[6].Throughput *= 1.25 // a lucky step at 12
	fit, err := fitOf(t, ss)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Recommend(ss, fit, nil, 0)
	if err != nil || rec.Max != 6 {
		t.Errorf("one +25%% step at 12: %+v, %v; want max 6 still", rec, err)
	}
}
