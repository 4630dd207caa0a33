package advisor

import (
	"fmt"
	"math"
	"strings"
)

// SVG draws throughput (left axis, with the fitted curve) and p95 latency
// (right axis) against concurrency on a log₂ axis.
func (r *Report) SVG() []byte {
	const w, h, l, rt, top, bot = 720.0, 320.0, 70.0, 70.0, 40.0, 50.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%.0f" y="20" font-size="13">%s</text>`+"\n", l, esc("poolpilot size: "+r.Workload+" — throughput and p95 vs concurrency"))
	if len(r.Steps) == 0 {
		b.WriteString(`<text x="70" y="160">no steps measured</text></svg>` + "\n")
		return []byte(b.String())
	}
	nMax, xMax, pMax := 1.0, 0.0, 0.0
	for _, s := range r.Steps {
		nMax, xMax, pMax = math.Max(nMax, float64(s.Concurrency)), math.Max(xMax, s.Throughput), math.Max(pMax, s.P95MS)
	}
	fit := r.Fit()
	if fit != nil {
		for n := 1.0; n <= nMax; n *= 1.05 {
			xMax = math.Max(xMax, fit.X(n))
		}
	}
	xMax, pMax = niceCeil(xMax), niceCeil(pMax)
	lg := math.Log2(math.Max(nMax, 2))
	px := func(n float64) float64 { return l + (w-l-rt)*math.Log2(n)/lg }
	py := func(v, top2 float64) float64 { return h - bot - (h-top-bot)*v/top2 }
	// axes and ticks
	fmt.Fprintf(&b, `<g stroke="#999"><line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/><line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/><line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/></g>`+"\n",
		l, h-bot, w-rt, h-bot, l, top, l, h-bot, w-rt, top, w-rt, h-bot)
	for _, s := range r.Steps {
		x := px(float64(s.Concurrency))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%d</text>`+"\n", x, h-bot+15, s.Concurrency)
	}
	for i := 0; i <= 4; i++ {
		f := float64(i) / 4
		y := py(f*xMax, xMax)
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#eee"/><text x="%.0f" y="%.1f" text-anchor="end" fill="#1f77b4">%.0f</text><text x="%.0f" y="%.1f" fill="#d62728">%s</text>`+"\n",
			l, y, w-rt, y, l-5, y+4, f*xMax, w-rt+5, y+4, ms(f*pMax))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">concurrency (pool max), log scale</text>`+"\n", (l+w-rt)/2, h-12)
	fmt.Fprintf(&b, `<text x="15" y="%.0f" fill="#1f77b4" transform="rotate(-90 15 %.0f)" text-anchor="middle">throughput /s</text>`+"\n", h/2, h/2)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="#d62728" transform="rotate(90 %.0f %.0f)" text-anchor="middle">p95 ms</text>`+"\n", w-15, h/2, w-15, h/2)
	if fit != nil {
		var pts []string
		for n := 1.0; ; n *= 1.05 {
			n = math.Min(n, nMax)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(n), py(fit.X(n), xMax)))
			if n >= nMax {
				break
			}
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f77b4" stroke-dasharray="5,3" points="%s"/>`+"\n", strings.Join(pts, " "))
	}
	var tp, lat []string
	for _, s := range r.Steps {
		x := px(float64(s.Concurrency))
		tp = append(tp, fmt.Sprintf("%.1f,%.1f", x, py(s.Throughput, xMax)))
		lat = append(lat, fmt.Sprintf("%.1f,%.1f", x, py(s.P95MS, pMax)))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#1f77b4"/><circle cx="%.1f" cy="%.1f" r="3" fill="#d62728"/>`+"\n", x, py(s.Throughput, xMax), x, py(s.P95MS, pMax))
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f77b4" points="%s"/><polyline fill="none" stroke="#d62728" points="%s"/>`+"\n", strings.Join(tp, " "), strings.Join(lat, " "))
	if !r.Recommended.Refused && r.Recommended.Max > 0 {
		x := px(float64(r.Recommended.Max))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#2ca02c" stroke-width="2"/><text x="%.1f" y="%.0f" fill="#2ca02c">recommended max %d</text>`+"\n", x, top, x, h-bot, x+4, top+12, r.Recommended.Max)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="34" fill="#555">● measured throughput, - - USL fit, ● p95 latency</text>`+"\n", l+250)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
