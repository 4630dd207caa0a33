package advisor

import (
	"errors"
	"fmt"
	"math"
)

// MinSteps is the fewest measured steps a fit (and so a recommendation)
// accepts: the law has three parameters, and with three points any three
// numbers fit.
const MinSteps = 4

// The fit is good enough to recommend from when R² ≥ MinR2 or RelRMSE ≤
// MaxRelRMSE. R² is the share of the variation of throughput across the
// steps that the curve explains: below 0.8 a fifth or more is noise, and σ,
// κ and N* swing with a single re-run. But R² says nothing when there is
// little variation to explain (throughput flat from the first steps on), so
// a fit whose steps lie within 10% of the curve (root mean square of the
// relative deviations) is accepted too. See docs/sizing.md.
const (
	MinR2      = 0.8
	MaxRelRMSE = 0.10
)

// Point is one measurement: throughput X at concurrency N.
type Point struct {
	N float64
	X float64
}

// USL is a fit of the Universal Scalability Law
// X(N) = λN / (1 + σ(N−1) + κN(N−1)).
type USL struct {
	Sigma  float64 // contention (serial fraction)
	Kappa  float64 // coherency (crosstalk) cost
	Lambda float64 // throughput of one client, per second
	R2     float64 // coefficient of determination on X
	// RelRMSE is the root mean square of (measured − fitted)/fitted.
	RelRMSE float64
}

// Good says whether the fit is good enough to recommend from.
func (u USL) Good() bool { return u.R2 >= MinR2 || u.RelRMSE <= MaxRelRMSE }

// ErrTooFewPoints is returned when fewer than MinSteps points are given.
var ErrTooFewPoints = errors.New("too few measurements")

// X is the fitted throughput at concurrency n.
func (u USL) X(n float64) float64 {
	return u.Lambda * n / (1 + u.Sigma*(n-1) + u.Kappa*n*(n-1))
}

// Peak is the concurrency of the fitted peak, N* = sqrt((1−σ)/κ); it is
// +Inf when κ = 0 (throughput only levels off, towards λ/σ, or grows
// without bound when σ is 0 too) and 1 when σ ≥ 1.
func (u USL) Peak() float64 {
	switch {
	case u.Sigma >= 1:
		return 1
	case u.Kappa <= 0:
		return math.Inf(1)
	}
	return math.Sqrt((1 - u.Sigma) / u.Kappa)
}

// FitUSL fits the law to points by least squares with σ, κ ≥ 0: an
// ordinary least-squares fit of N/X = (1 + σ(N−1) + κN(N−1))/λ, linear in
// (1/λ, σ/λ, κ/λ), gives the start, and Levenberg–Marquardt iterations on
// the residuals of X itself refine it.
func FitUSL(points []Point) (USL, error) {
	if len(points) < MinSteps {
		return USL{}, fmt.Errorf("%w: %d steps, the fit needs at least %d", ErrTooFewPoints, len(points), MinSteps)
	}
	for _, p := range points {
		if !(p.N >= 1) || !(p.X > 0) || math.IsInf(p.X, 0) {
			return USL{}, fmt.Errorf("point N=%g X=%g: want N ≥ 1 and a positive, finite throughput", p.N, p.X)
		}
	}
	u, ok := linearStart(points)
	if !ok {
		return USL{}, errors.New("the linearised fit has no solution: are all steps at the same concurrency?")
	}
	u = refine(points, u)
	u.R2 = rSquared(points, u)
	for _, p := range points {
		d := (p.X - u.X(p.N)) / u.X(p.N)
		u.RelRMSE += d * d
	}
	u.RelRMSE = math.Sqrt(u.RelRMSE / float64(len(points)))
	return u, nil
}

// linearStart fits y = N/X = a + b(N−1) + c·N(N−1) with b, c ≥ 0 and a > 0:
// the unconstrained fit if feasible, else the best feasible fit with b or c
// (or both) held at 0.
func linearStart(points []Point) (USL, bool) {
	best, bestSSE := USL{}, math.Inf(1)
	for _, free := range [][3]bool{{true, true, true}, {true, true, false}, {true, false, true}, {true, false, false}} {
		coef, ok := lsq(points, free)
		if !ok || coef[0] <= 0 || coef[1] < 0 || coef[2] < 0 {
			continue
		}
		u := USL{Lambda: 1 / coef[0], Sigma: coef[1] / coef[0], Kappa: coef[2] / coef[0]}
		if s := sse(points, u); s < bestSSE {
			best, bestSSE = u, s
		}
	}
	return best, !math.IsInf(bestSSE, 1)
}

// lsq solves the least-squares problem for the columns marked free, the
// others held at 0. Columns are scaled to unit maximum for conditioning.
func lsq(points []Point, free [3]bool) ([3]float64, bool) {
	var cols []int
	for j, f := range free {
		if f {
			cols = append(cols, j)
		}
	}
	row := func(p Point) [3]float64 { return [3]float64{1, p.N - 1, p.N * (p.N - 1)} }
	var scale [3]float64
	for _, p := range points {
		r := row(p)
		for j := range r {
			scale[j] = math.Max(scale[j], r[j])
		}
	}
	k := len(cols)
	a := make([][]float64, k)
	b := make([]float64, k)
	for i := range a {
		a[i] = make([]float64, k)
	}
	for _, p := range points {
		r, y := row(p), p.N/p.X
		for i, ci := range cols {
			xi := r[ci] / scale[ci]
			b[i] += xi * y
			for j, cj := range cols {
				a[i][j] += xi * r[cj] / scale[cj]
			}
		}
	}
	x, ok := solve(a, b)
	var out [3]float64
	if !ok {
		return out, false
	}
	for i, ci := range cols {
		out[ci] = x[i] / scale[ci]
	}
	return out, true
}

// solve solves a·x = b by Gaussian elimination with partial pivoting.
func solve(a [][]float64, b []float64) ([]float64, bool) {
	n := len(b)
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-300 {
			return nil, false
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < n; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < n; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < n; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
		if math.IsNaN(x[r]) || math.IsInf(x[r], 0) {
			return nil, false
		}
	}
	return x, true
}

func sse(points []Point, u USL) float64 {
	s := 0.0
	for _, p := range points {
		d := p.X - u.X(p.N)
		s += d * d
	}
	return s
}

func rSquared(points []Point, u USL) float64 {
	mean := 0.0
	for _, p := range points {
		mean += p.X
	}
	mean /= float64(len(points))
	sst := 0.0
	for _, p := range points {
		sst += (p.X - mean) * (p.X - mean)
	}
	if sst == 0 {
		if sse(points, u) == 0 {
			return 1
		}
		return 0
	}
	return 1 - sse(points, u)/sst
}

// refine runs Levenberg–Marquardt on the residuals X − X̂(N) over
// (λ, σ, κ), projecting σ and κ onto ≥ 0 after each step, and keeps a step
// only when it lowers the sum of squares.
func refine(points []Point, u USL) USL {
	cur, damp := sse(points, u), 1e-3
	for it := 0; it < 200 && damp < 1e12; it++ {
		var jtj [3][3]float64
		var jtr [3]float64
		for _, p := range points {
			d := 1 + u.Sigma*(p.N-1) + u.Kappa*p.N*(p.N-1)
			g := [3]float64{p.N / d, -u.Lambda * p.N * (p.N - 1) / (d * d), -u.Lambda * p.N * p.N * (p.N - 1) / (d * d)}
			r := p.X - u.X(p.N)
			for i := range 3 {
				jtr[i] += g[i] * r
				for j := range 3 {
					jtj[i][j] += g[i] * g[j]
				}
			}
		}
		a := make([][]float64, 3)
		for i := range 3 {
			a[i] = append([]float64(nil), jtj[i][:]...)
			a[i][i] += damp * math.Max(jtj[i][i], 1e-300)
		}
		step, ok := solve(a, append([]float64(nil), jtr[:]...))
		if !ok {
			damp *= 10
			continue
		}
		next := USL{Lambda: u.Lambda + step[0], Sigma: math.Max(0, u.Sigma+step[1]), Kappa: math.Max(0, u.Kappa+step[2])}
		if s := sse(points, next); next.Lambda > 0 && s < cur {
			done := (cur-s)/cur < 1e-12
			u, cur, damp = next, s, damp/10
			if done {
				break
			}
		} else {
			damp *= 10
		}
	}
	return u
}
