package chart

import (
	"fmt"
	"math"
	"strings"
)

// Step verdict kinds pick a step's color.
const (
	VerdictPass  = "pass"
	VerdictWorse = "worse"
	VerdictFail  = "fail"
)

var verdictColor = map[string]string{VerdictPass: "#15803d", VerdictWorse: "#d97706", VerdictFail: "#dc2626"}

// StairStep is one step of a staircase change. Nil figures were not
// measured.
type StairStep struct {
	Label      string // the size, e.g. "50:10"
	Throughput *float64
	P95MS      *float64
	Verdict    string // VerdictPass, VerdictWorse, VerdictFail or ""
}

// Steps is the chart of a staircase change: each step's size on x, its
// throughput as a bar (left axis) and its p95 as a line (right axis), its
// verdict under the size, and the step the run settled at outlined.
type Steps struct {
	Title  string
	Width  int // default 720
	Height int // default 240
	Steps  []StairStep
	// Settled is the index of the step kept (-1: none, the run reached its
	// target or rolled back).
	Settled int
}

// SVG renders the chart as one <svg> element with xmlns.
func (c Steps) SVG() []byte {
	if c.Width <= 0 {
		c.Width = 720
	}
	if c.Height <= 0 {
		c.Height = 240
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="11">`,
		c.Width, c.Height, c.Width, c.Height)
	fmt.Fprintf(&b, "<title>%s</title>", esc(c.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`, c.Width, c.Height)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="13" font-weight="600" fill="#111827">%s</text>`, padL, esc(c.Title))
	if len(c.Steps) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#6b7280">no steps</text></svg>`, c.Width/2, c.Height/2)
		return []byte(b.String())
	}
	f := frame{x: padL, y: padT + 10, w: float64(c.Width - padL - 60), h: float64(c.Height - padT - 10 - 46)}
	tMax, pMax := 0.0, 0.0
	for _, s := range c.Steps {
		if s.Throughput != nil {
			tMax = math.Max(tMax, *s.Throughput)
		}
		if s.P95MS != nil {
			pMax = math.Max(pMax, *s.P95MS)
		}
	}
	tTop, pTop := niceCeil(math.Max(tMax, 1)*1.05), niceCeil(math.Max(pMax, 1)*1.05)
	c.stepAxes(&b, f, tTop, pTop)
	slot := f.w / float64(len(c.Steps))
	var line strings.Builder
	for i, s := range c.Steps {
		c.step(&b, &line, f, slot, i, s, tTop, pTop)
	}
	fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.8"><title>p95</title></path>`, line.String(), palette[1])
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="%s">■ throughput (left)</text><text x="%.1f" y="%d" fill="%s">● p95 (right)</text>`,
		f.x+f.w-250, 18, palette[0], f.x+f.w-130, 18, palette[1])
	b.WriteString("</svg>")
	return []byte(b.String())
}

func (c Steps) stepAxes(b *strings.Builder, f frame, tTop, pTop float64) {
	for i := 0; i <= 4; i++ {
		y := f.y + f.h - f.h*float64(i)/4
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e7eb"/>`, f.x, y, f.x+f.w, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="%s">%s/s</text>`, f.x-6, y+4, palette[0], trim(tTop*float64(i)/4))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="%s">%s ms</text>`, f.x+f.w+6, y+4, palette[1], trim(pTop*float64(i)/4))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#9ca3af"/>`, f.x, f.y+f.h, f.x+f.w, f.y+f.h)
}

// step draws one step's bar, verdict, size label and settle outline, and
// adds its p95 point to line.
func (c Steps) step(b, line *strings.Builder, f frame, slot float64, i int, s StairStep, tTop, pTop float64) {
	cx := f.x + slot*(float64(i)+0.5)
	bw := math.Min(slot*0.5, 60)
	if c.Settled == i {
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#f0fdf4" stroke="#15803d" stroke-dasharray="4 3"/>`, cx-slot/2+2, f.y-8, slot-4, f.h+8)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#15803d" font-weight="600"`+halo+`>settled here</text>`, cx, f.y+4)
	}
	if s.Throughput != nil {
		h := f.h * *s.Throughput / tTop
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.7"><title>%s: %s/s</title></rect>`,
			cx-bw/2, f.y+f.h-h, bw, h, palette[0], esc(s.Label), trim(*s.Throughput))
	}
	if s.P95MS != nil {
		y := f.y + f.h - f.h**s.P95MS/pTop
		cmd := "L"
		if line.Len() == 0 {
			cmd = "M"
		}
		fmt.Fprintf(line, "%s%.1f %.1f", cmd, cx, y)
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: p95 %s ms</title></circle>`, cx, y, palette[1], esc(s.Label), trim(*s.P95MS))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#111827">%s</text>`, cx, f.y+f.h+16, esc(s.Label))
	if s.Verdict != "" {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s" font-weight="600" class="verdict-%s">%s</text>`,
			cx, f.y+f.h+30, colorOr(verdictColor[s.Verdict], "#6b7280"), esc(s.Verdict), esc(s.Verdict))
	}
}

// trim is v with at most one decimal and no trailing zeros.
func trim(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(strings.TrimSuffix(s, "0"), ".")
}
