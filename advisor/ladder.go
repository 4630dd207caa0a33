package advisor

// Ladder returns the concurrencies of a sweep up to max: 1, 2, 3, 4, 6, 8,
// 12, 16, 24, 32, 48, 64, … (powers of two and 1.5 times them), with max
// itself as the last step when it is not on the ladder.
func Ladder(max int) []int {
	var out []int
	for p := 1; p <= max; p *= 2 {
		out = append(out, p)
		if q := p * 3 / 2; q > p && q <= max && q < 2*p {
			out = append(out, q)
		}
	}
	if len(out) > 0 && out[len(out)-1] != max {
		out = append(out, max)
	}
	return out
}
