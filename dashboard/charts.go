package dashboard

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/poolpilot/poolpilot/chart"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/report"
)

// namedChart is one rendered chart.
type namedChart struct {
	ID, Title string
	SVG       template.HTML
	Points    int
}

// charts renders the run's four charts: the fleet samples, the criteria's
// thresholds and the apply/rollback/fired marks.
func (v *View) charts() []namedChart {
	var out []namedChart
	for _, cs := range report.ChartSpecs {
		vals := make([]*float64, len(v.Samples))
		for i, s := range v.Samples {
			vals[i] = cs.Get(s)
		}
		idx := downsampleIdx(len(vals), chartPoints)
		pts := make([]chart.Point, 0, len(idx))
		n := 0
		for _, b := range idx {
			best := maxIn(vals[b[0]:b[1]])
			p := chart.Point{T: v.Samples[b[0]].Time, Missing: best == nil}
			if best != nil {
				p.V, n = *best, n+1
			}
			pts = append(pts, p)
		}
		c := chart.Chart{Title: cs.Title, Unit: cs.Unit, Scale: cs.Scale, Width: 640, Height: 220,
			Series: []chart.Series{{Name: cs.Title, Points: pts}}, Thresholds: v.thresholds(cs)}
		for _, m := range v.marks {
			c.Marks = append(c.Marks, chart.Mark{T: m.T, Label: m.Label, Kind: m.Kind})
		}
		out = append(out, namedChart{ID: cs.ID, Title: cs.Title, SVG: template.HTML(c.SVG()), Points: n})
	}
	return out
}

func (v *View) thresholds(cs report.ChartSpec) []chart.Threshold {
	var out []chart.Threshold
	for _, c := range v.Criteria {
		if c.Threshold == nil || !cs.Draws(c.Metric) {
			continue
		}
		kind := chart.KindSuccess
		if c.Role == "rollback" {
			kind = chart.KindRollback
		}
		// Short: the off-scale note lists every label on one line; the
		// criteria table has the sustain windows.
		label := fmt.Sprintf("%s %s %s%s", c.Role, c.Op, criteria.HumanKind(criteria.KindCount, *c.Threshold*cs.Scale), cs.Unit)
		out = append(out, chart.Threshold{Value: *c.Threshold, Label: label, Kind: kind})
	}
	return out
}

// downsampleIdx splits n points into at most max buckets [lo, hi).
func downsampleIdx(n, max int) [][2]int {
	if n <= max {
		out := make([][2]int, n)
		for i := range out {
			out[i] = [2]int{i, i + 1}
		}
		return out
	}
	out := make([][2]int, max)
	for i := range out {
		out[i] = [2]int{i * n / max, (i + 1) * n / max}
	}
	return out
}

func maxIn(vs []*float64) *float64 {
	var best *float64
	for _, v := range vs {
		if v != nil && (best == nil || *v > *best) {
			best = v
		}
	}
	return best
}

// sparkline is a small inline SVG of a criterion's recent values, with its
// threshold dashed.
func sparkline(vals []*float64, threshold *float64, state string) template.HTML {
	const w, h = 120.0, 28.0
	lo, hi, n := 0.0, 0.0, 0
	for _, v := range vals {
		if v != nil {
			if n == 0 || *v < lo {
				lo = *v
			}
			if n == 0 || *v > hi {
				hi = *v
			}
			n++
		}
	}
	if n == 0 {
		return `<span class="muted">no data</span>`
	}
	if threshold != nil {
		lo, hi = min(lo, *threshold), max(hi, *threshold)
	}
	if hi == lo {
		hi = lo + 1
	}
	y := func(v float64) float64 { return h - 2 - (h-4)*(v-lo)/(hi-lo) }
	x := func(i int) float64 {
		if len(vals) <= 1 {
			return w / 2
		}
		return 1 + (w-2)*float64(i)/float64(len(vals)-1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %g %g" width="%g" height="%g" aria-hidden="true" focusable="false">`, w, h, w, h)
	if threshold != nil {
		fmt.Fprintf(&b, `<line x1="0" x2="%g" y1="%.1f" y2="%.1f" stroke="#6b7280" stroke-dasharray="3 2" stroke-width="1"/>`, w, y(*threshold), y(*threshold))
	}
	b.WriteString(`<polyline fill="none" stroke="` + stateColor(state) + `" stroke-width="1.5" points="`)
	for i, v := range vals {
		if v != nil {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(*v))
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String())
}

func stateColor(s string) string {
	switch s {
	case "ok":
		return "#15803d"
	case "pending":
		return "#b45309"
	case "firing":
		return "#b91c1c"
	}
	return "#4b5563"
}
