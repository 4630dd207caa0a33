package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// Point is one value at one time; Missing points are gaps.
type Point struct {
	T       time.Time
	V       float64
	Missing bool
}

// Series is one line.
type Series struct {
	Name   string
	Color  string // CSS color; "" uses the palette
	Points []Point
}

// Threshold kinds pick the line's color.
const (
	KindSuccess  = "success"  // a success criterion's limit (amber)
	KindRollback = "rollback" // a rollback trigger (red)
)

// Threshold is a horizontal line.
type Threshold struct {
	Value float64
	Label string
	Kind  string
}

// Mark kinds pick the line's color.
const (
	MarkApply    = "apply"
	MarkRollback = "rollback"
	MarkFired    = "fired"
	MarkOther    = "other"
)

// Mark is a vertical line at an event.
type Mark struct {
	T     time.Time
	Label string
	Kind  string
}

// Chart is one time-series chart.
type Chart struct {
	Title      string
	Unit       string // appended to y labels, e.g. "ms" or "%"
	Width      int    // default 720
	Height     int    // default 220
	Series     []Series
	Thresholds []Threshold
	Marks      []Mark
	// Scale multiplies values for display (100 shows a fraction as %).
	Scale float64
	// Digits is the number of decimals of y labels (default: chosen from the
	// tick step).
	Digits int
}

var palette = []string{"#2563eb", "#7c3aed", "#0891b2", "#65a30d"}

var markColor = map[string]string{MarkApply: "#2563eb", MarkRollback: "#dc2626", MarkFired: "#ea580c", MarkOther: "#6b7280"}

var thresholdColor = map[string]string{KindSuccess: "#d97706", KindRollback: "#dc2626"}

const (
	padL, padR, padT, padB = 60, 16, 30, 30
	// halo keeps a label readable over lines: a white outline behind it.
	halo = ` stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"`
)

// frame maps data to pixels.
type frame struct {
	t0, t1     time.Time
	y0, y1     float64
	x, y, w, h float64
}

func (f frame) px(t time.Time) float64 {
	span := f.t1.Sub(f.t0).Seconds()
	if span <= 0 {
		return f.x + f.w/2
	}
	return f.x + f.w*t.Sub(f.t0).Seconds()/span
}

func (f frame) py(v float64) float64 {
	if f.y1 <= f.y0 {
		return f.y + f.h
	}
	return f.y + f.h - f.h*(v-f.y0)/(f.y1-f.y0)
}

// SVG renders the chart as one <svg> element with xmlns, usable inline in
// HTML or as a standalone .svg file.
func (c Chart) SVG() []byte {
	if c.Width <= 0 {
		c.Width = 720
	}
	if c.Height <= 0 {
		c.Height = 220
	}
	if c.Scale == 0 {
		c.Scale = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="11">`,
		c.Width, c.Height, c.Width, c.Height)
	fmt.Fprintf(&b, "<title>%s</title>", esc(c.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`, c.Width, c.Height)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="13" font-weight="600" fill="#111827">%s</text>`, padL, esc(c.Title))
	f, offScale, ok := c.frame()
	if !ok {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#6b7280">no data</text></svg>`, c.Width/2, c.Height/2)
		return []byte(b.String())
	}
	c.axes(&b, f)
	c.thresholds(&b, f, offScale)
	c.marks(&b, f)
	c.lines(&b, f)
	b.WriteString("</svg>")
	return []byte(b.String())
}

// frame computes the ranges; thresholds more than 3× above the data are
// returned as off scale.
func (c Chart) frame() (frame, []Threshold, bool) {
	f := frame{x: padL, y: padT, w: float64(c.Width - padL - padR), h: float64(c.Height - padT - padB)}
	dataMax, n := 0.0, 0
	for _, s := range c.Series {
		for _, p := range s.Points {
			if f.t0.IsZero() || p.T.Before(f.t0) {
				f.t0 = p.T
			}
			if p.T.After(f.t1) {
				f.t1 = p.T
			}
			if !p.Missing {
				dataMax = math.Max(dataMax, p.V*c.Scale)
				n++
			}
		}
	}
	if n == 0 {
		return f, nil, false
	}
	yMax := dataMax
	var off []Threshold
	for _, t := range c.Thresholds {
		v := t.Value * c.Scale
		if dataMax > 0 && v > 3*dataMax {
			off = append(off, t)
			continue
		}
		yMax = math.Max(yMax, v)
	}
	if yMax <= 0 {
		yMax = 1
	}
	f.y1 = niceCeil(yMax * 1.05)
	return f, off, true
}

// niceCeil rounds up to 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k.
func niceCeil(v float64) float64 {
	exp := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if v <= m*exp {
			return m * exp
		}
	}
	return 10 * exp
}

func (c Chart) axes(b *strings.Builder, f frame) {
	step := f.y1 / 4
	digits := c.Digits
	if digits == 0 && step < 1 {
		digits = int(math.Ceil(-math.Log10(step)))
	}
	for i := 0; i <= 4; i++ {
		v := f.y0 + step*float64(i)
		y := f.py(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e7eb"/>`, f.x, y, f.x+f.w, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#4b5563">%s</text>`, f.x-6, y+4, esc(strconvF(v, digits)+c.Unit))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#9ca3af"/>`, f.x, f.y+f.h, f.x+f.w, f.y+f.h)
	tstep := timeStep(f.t1.Sub(f.t0))
	layout := "15:04:05"
	if tstep >= time.Minute {
		layout = "15:04"
	}
	for t := f.t0.Truncate(tstep); !t.After(f.t1); t = t.Add(tstep) {
		if t.Before(f.t0) {
			continue
		}
		x := f.px(t)
		anchor := "middle"
		if x < f.x+25 {
			anchor = "start"
		} else if x > f.x+f.w-25 {
			anchor = "end"
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#9ca3af"/>`, x, f.y+f.h, x, f.y+f.h+4)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="#4b5563">%s</text>`, x, f.y+f.h+16, anchor, t.UTC().Format(layout))
	}
}

// timeStep is the round tick interval that gives at most 7 ticks.
func timeStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
		30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
		30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		if span/s <= 6 {
			return s
		}
	}
	return span / 6
}

func strconvF(v float64, digits int) string { return fmt.Sprintf("%.*f", digits, v) }

func (c Chart) thresholds(b *strings.Builder, f frame, off []Threshold) {
	for _, t := range c.Thresholds {
		if contains(off, t) {
			continue
		}
		col := colorOr(thresholdColor[t.Kind], "#6b7280")
		y := f.py(t.Value * c.Scale)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"/>`, f.x, y, f.x+f.w, y, col)
		ly := y - 4
		if ly < f.y+40 { // below the line, clear of the event labels at the top
			ly = y + 13
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="%s"`+halo+`>%s</text>`, f.x+f.w-4, ly, col, esc(t.Label))
	}
	if len(off) > 0 {
		labels := make([]string, len(off))
		col := thresholdColor[KindSuccess]
		for i, t := range off {
			labels[i] = t.Label
			if t.Kind == KindRollback {
				col = thresholdColor[KindRollback]
			}
		}
		fmt.Fprintf(b, `<text x="%.1f" y="18" text-anchor="end" fill="%s">↑ off scale: %s</text>`, f.x+f.w, col, esc(strings.Join(labels, "; ")))
	}
}

func contains(ts []Threshold, t Threshold) bool {
	for _, o := range ts {
		if o == t {
			return true
		}
	}
	return false
}

func (c Chart) marks(b *strings.Builder, f frame) {
	lastX := -1e9
	row := 0
	for _, m := range c.Marks {
		if m.T.Before(f.t0) || m.T.After(f.t1) {
			continue
		}
		x := f.px(m.T)
		col := colorOr(markColor[m.Kind], markColor[MarkOther])
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`, x, f.y, x, f.y+f.h, col)
		if x-lastX < 90 {
			row++
		} else {
			row = 0
		}
		lastX = x
		tx, anchor := x+3, "start"
		if x > f.x+f.w-130 {
			tx, anchor = x-3, "end"
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="%s" font-weight="600"`+halo+`>%s</text>`, tx, f.y+11+float64(row%3)*12, anchor, col, esc(m.Label))
	}
}

func (c Chart) lines(b *strings.Builder, f frame) {
	for i, s := range c.Series {
		col := colorOr(s.Color, palette[i%len(palette)])
		var d strings.Builder
		pen := false
		for _, p := range s.Points {
			if p.Missing {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f", cmd, f.px(p.T), f.py(p.V*c.Scale))
			pen = true
		}
		fmt.Fprintf(b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.8" stroke-linejoin="round"><title>%s</title></path>`, d.String(), col, esc(s.Name))
	}
}

func colorOr(c, def string) string {
	if c == "" {
		return def
	}
	return c
}

func esc(s string) string { return html.EscapeString(s) }
