package advisor

import (
	"errors"
	"strings"
	"testing"
)

// plateau is the curve of issue 15 (select1 --max 64 on a quiet 2-core
// machine): 7.0k/s at 1, 24.8k at 2, 30.4k at 6, 33.0k at 8, then a plateau
// of 31–34k up to 64 with p95 growing from 0.8 to 11.7 ms. The USL cannot
// follow its super-linear start and flat top. Each step has two rounds
// within spread (±pct % around the throughput).
func plateau(pct float64) []Step {
	rows := []struct {
		n    int
		x    float64
		p95  float64
		sign float64
	}{
		{1, 7000, 0.8, 1}, {2, 24800, 0.85, -1}, {3, 29800, 0.9, 1}, {4, 30300, 1.0, -1},
		{6, 30400, 1.1, 1}, {8, 33000, 1.3, -1}, {12, 31000, 1.9, 1}, {16, 33700, 2.6, -1},
		{24, 31200, 3.9, 1}, {32, 34000, 5.2, -1}, {48, 31400, 8.1, 1}, {64, 33600, 11.7, -1},
	}
	var ss []Step
	for _, r := range rows {
		d := r.sign * r.x * pct / 100
		ss = append(ss, Step{Concurrency: r.n, Throughput: r.x, P95MS: r.p95, Requests: 100000, Rounds: 2,
			RoundThroughputs: []float64{r.x + d, r.x - d}})
	}
	return ss
}

func TestRecommendEmpiricalOnAPlateau(t *testing.T) {
	ss := plateau(2)
	fit, fitErr := FitSteps(ss)
	if fitErr != nil || fit.Good() {
		t.Fatalf("the fixture must be a poor fit for the law: %+v, %v", fit, fitErr)

	}
	rec, err := Recommend(ss, &fit, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Method != MethodEmpirical || rec.Max < 6 || rec.Max > 8 || rec.Min != 2 || rec.PeakAt != 32 || rec.R2 == nil || *rec.R2 != fit.R2 {
		t.Errorf("recommendation %+v; want method empirical, max 6–8, peak at 32, R² reported", rec)
	}
	for _, want := range []string{"method empirical", "USL fit is poor (R² = ", "measured peak throughput", "coefficient of variation 2.8%"} {
		if !strings.Contains(rec.Reason, want) {
			t.Errorf("reason %q lacks %q", rec.Reason, want)
		}
	}
	// A step failing 2% of its requests is excluded from the peak.
	ss[9].Errors = 2000
	if rec, _ := Recommend(ss, &fit, nil, 0); rec.PeakAt != 16 {
		t.Errorf("with the peak step failing: peak at %d, want 16", rec.PeakAt)
	}
}

func TestRecommendUSLOnACleanCurve(t *testing.T) {
	ss := stepsOf(USL{Sigma: 0.2, Kappa: 0.01, Lambda: 1000}, 64)
	fit, err := fitOf(t, ss)
	rec, err := Recommend(ss, fit, err, 0)
	if err != nil || rec.Method != MethodUSL || rec.Max != 6 || rec.R2 == nil || *rec.R2 < 0.99 {
		t.Errorf("clean USL curve: %+v, %v; want method usl, max 6", rec, err)
	}
}

func TestRecommendEmpiricalRefusesNoise(t *testing.T) {
	ss := plateau(2)
	ss[6].RoundThroughputs = []float64{38000, 26000} // the step at 12: CV 26%
	fit, fitErr := FitSteps(ss)
	rec, err := Recommend(ss, &fit, fitErr, 0)
	if !errors.Is(err, ErrRefused) || !rec.Refused || rec.Method != "" {
		t.Fatalf("noisy rounds: %+v, %v; want a refusal", rec, err)
	}
	for _, want := range []string{"too noisy", "step at concurrency 12", "38000, 26000", "coefficient of variation 26.5%", "tolerance 10%"} {
		if !strings.Contains(rec.Reason, want) {
			t.Errorf("reason %q lacks %q", rec.Reason, want)
		}
	}
	// Measured once: noise cannot be told from shape.
	one := plateau(0)
	for i := range one {
		one[i].Rounds, one[i].RoundThroughputs = 1, nil
	}
	rec, err = Recommend(one, &fit, nil, 0)
	if !errors.Is(err, ErrRefused) || !strings.Contains(rec.Reason, "measured once") {
		t.Errorf("one round: %+v, %v", rec, err)
	}
}

func TestCV(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		want float64
	}{{nil, 0}, {[]float64{5}, 0}, {[]float64{10, 10}, 0}, {[]float64{9, 11}, 0.1414}, {[]float64{2, 4, 6}, 0.5}} {
		if got := CV(tc.v); got < tc.want-1e-3 || got > tc.want+1e-3 {
			t.Errorf("CV(%v) = %.4f, want %.4f", tc.v, got, tc.want)
		}
	}
}
