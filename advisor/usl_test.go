package advisor

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func synthetic(u USL, ns []int, noise float64, seed uint64) []Point {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	var ps []Point
	for _, n := range ns {
		x := u.X(float64(n)) * (1 + noise*(2*rng.Float64()-1))
		ps = append(ps, Point{N: float64(n), X: x})
	}
	return ps
}

func within(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func TestFitUSLRecoversKnownParameters(t *testing.T) {
	ladder := Ladder(256)
	for _, tc := range []struct {
		name  string
		u     USL
		ns    []int
		noise float64 // ± uniform, relative
	}{
		{"database-like", USL{Sigma: 0.05, Kappa: 0.001, Lambda: 5000}, ladder, 0.01},
		{"strong crosstalk", USL{Sigma: 0.2, Kappa: 0.02, Lambda: 12000}, Ladder(48), 0.01},
		{"mild", USL{Sigma: 0.02, Kappa: 0.0001, Lambda: 300}, ladder, 0.005},
		{"exact", USL{Sigma: 0.1, Kappa: 0.005, Lambda: 1000}, Ladder(64), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 5; seed++ {
				got, err := FitUSL(synthetic(tc.u, tc.ns, tc.noise, seed))
				if err != nil {
					t.Fatal(err)
				}
				if !within(got.Sigma, tc.u.Sigma, 0.05) || !within(got.Kappa, tc.u.Kappa, 0.05) || !within(got.Lambda, tc.u.Lambda, 0.05) {
					t.Errorf("seed %d: fit σ=%.5g κ=%.5g λ=%.5g, want σ=%g κ=%g λ=%g within 5%%", seed, got.Sigma, got.Kappa, got.Lambda, tc.u.Sigma, tc.u.Kappa, tc.u.Lambda)
				}
				if got.R2 < 0.98 {
					t.Errorf("seed %d: R² %.4f on mildly noisy data", seed, got.R2)
				}
				if !within(got.Peak(), tc.u.Peak(), 0.05) {
					t.Errorf("seed %d: N* %.2f, want %.2f", seed, got.Peak(), tc.u.Peak())
				}
			}
		})
	}
}

func TestFitUSLKappaZero(t *testing.T) {
	u := USL{Sigma: 0.1, Lambda: 1000}
	got, err := FitUSL(synthetic(u, Ladder(64), 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got.Kappa > 1e-9 || !within(got.Sigma, 0.1, 0.01) || !math.IsInf(got.Peak(), 1) {
		t.Errorf("fit %+v peak %v; want κ 0, σ 0.1 and no finite peak", got, got.Peak())
	}
}

func TestFitUSLNeverNegative(t *testing.T) {
	// Super-linear data (X grows faster than N) would need σ < 0.
	ps := []Point{{1, 100}, {2, 250}, {3, 420}, {4, 600}, {6, 1000}}
	got, err := FitUSL(ps)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sigma < 0 || got.Kappa < 0 {
		t.Errorf("fit %+v has a negative coefficient", got)
	}
}

func TestFitUSLTooFew(t *testing.T) {
	_, err := FitUSL([]Point{{1, 100}, {2, 190}, {3, 260}})
	if !errors.Is(err, ErrTooFewPoints) {
		t.Errorf("3 points: err %v, want ErrTooFewPoints", err)
	}
}

func TestFitUSLNoiseGivesLowR2(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var ps []Point
	for _, n := range Ladder(64) {
		ps = append(ps, Point{N: float64(n), X: 1000 + 1000*rng.Float64()})
	}
	got, err := FitUSL(ps)
	if err != nil {
		t.Fatal(err)
	}
	if got.R2 >= MinR2 {
		t.Errorf("throughput unrelated to concurrency fits with R² %.3f ≥ %g", got.R2, MinR2)
	}
}
