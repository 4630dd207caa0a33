package advisor

import (
	"fmt"
	"math"
	"strings"
)

// SVG draws throughput (left axis, with the fitted curve) and p95 latency
// (right axis) against concurrency on a log₂ axis.
func (r *Report) SVG() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%.0f" y="20" font-size="13">%s</text>`+"\n", svgL, esc("poolpilot size: "+r.Workload+" — throughput and p95 vs concurrency"))
	if len(r.Steps) == 0 {
		b.WriteString(`<text x="70" y="160">no steps measured</text></svg>` + "\n")
		return []byte(b.String())
	}
	f := r.svgFrame()
	f.axes(&b, r.Steps)
	if fit := r.Fit(); fit != nil {
		var pts []string
		for n := 1.0; ; n *= 1.05 {
			n = math.Min(n, f.nMax)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", f.px(n), f.py(fit.X(n), f.xMax)))
			if n >= f.nMax {
				break
			}
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f77b4" stroke-dasharray="5,3" points="%s"/>`+"\n", strings.Join(pts, " "))
	}
	var tp, lat []string
	for _, s := range r.Steps {
		x, yt, yl := f.px(float64(s.Concurrency)), f.py(s.Throughput, f.xMax), f.py(s.P95MS, f.pMax)
		tp = append(tp, fmt.Sprintf("%.1f,%.1f", x, yt))
		lat = append(lat, fmt.Sprintf("%.1f,%.1f", x, yl))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#1f77b4"/><circle cx="%.1f" cy="%.1f" r="3" fill="#d62728"/>`+"\n", x, yt, x, yl)
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f77b4" points="%s"/><polyline fill="none" stroke="#d62728" points="%s"/>`+"\n", strings.Join(tp, " "), strings.Join(lat, " "))
	if !r.Recommended.Refused && r.Recommended.Max > 0 {
		x := f.px(float64(r.Recommended.Max))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#2ca02c" stroke-width="2"/><text x="%.1f" y="%.0f" fill="#2ca02c">recommended max %d</text>`+"\n", x, svgTop, x, svgH-svgBot, x+4, svgTop+12, r.Recommended.Max)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="34" fill="#555">● measured throughput, - - USL fit, ● p95 latency</text>`+"\n", svgL+250)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// Geometry of the chart.
const svgW, svgH, svgL, svgR, svgTop, svgBot = 720.0, 320.0, 70.0, 70.0, 40.0, 50.0

// svgFrame holds the scales: concurrency on log₂, throughput (left) and p95 (right).
type svgFrame struct{ nMax, xMax, pMax float64 }

func (r *Report) svgFrame() svgFrame {
	f := svgFrame{nMax: 1}
	for _, s := range r.Steps {
		f.nMax, f.xMax, f.pMax = math.Max(f.nMax, float64(s.Concurrency)), math.Max(f.xMax, s.Throughput), math.Max(f.pMax, s.P95MS)
	}
	if fit := r.Fit(); fit != nil {
		for n := 1.0; n <= f.nMax; n *= 1.05 {
			f.xMax = math.Max(f.xMax, fit.X(n))
		}
	}
	f.xMax, f.pMax = niceCeil(f.xMax), niceCeil(f.pMax)
	return f
}

func (f svgFrame) px(n float64) float64 {
	return svgL + (svgW-svgL-svgR)*math.Log2(n)/math.Log2(math.Max(f.nMax, 2))
}

func (f svgFrame) py(v, top float64) float64 { return svgH - svgBot - (svgH-svgTop-svgBot)*v/top }

// axes draws the frame, the concurrency ticks, both value scales and labels.
func (f svgFrame) axes(b *strings.Builder, steps []Step) {
	fmt.Fprintf(b, `<g stroke="#999"><line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/><line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/><line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/></g>`+"\n",
		svgL, svgH-svgBot, svgW-svgR, svgH-svgBot, svgL, svgTop, svgL, svgH-svgBot, svgW-svgR, svgTop, svgW-svgR, svgH-svgBot)
	for _, s := range steps {
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" text-anchor="middle">%d</text>`+"\n", f.px(float64(s.Concurrency)), svgH-svgBot+15, s.Concurrency)
	}
	for i := 0; i <= 4; i++ {
		q := float64(i) / 4
		y := f.py(q*f.xMax, f.xMax)
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#eee"/><text x="%.0f" y="%.1f" text-anchor="end" fill="#1f77b4">%.0f</text><text x="%.0f" y="%.1f" fill="#d62728">%s</text>`+"\n",
			svgL, y, svgW-svgR, y, svgL-5, y+4, q*f.xMax, svgW-svgR+5, y+4, ms(q*f.pMax))
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">concurrency (pool max), log scale</text>`+"\n", (svgL+svgW-svgR)/2, svgH-12)
	fmt.Fprintf(b, `<text x="15" y="%.0f" fill="#1f77b4" transform="rotate(-90 15 %.0f)" text-anchor="middle">throughput /s</text>`+"\n", svgH/2, svgH/2)
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" fill="#d62728" transform="rotate(90 %.0f %.0f)" text-anchor="middle">p95 ms</text>`+"\n", svgW-15, svgH/2, svgW-15, svgH/2)
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
