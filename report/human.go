package report

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FormatValue is a metric's value rounded for people: fractions (error
// rates, utilization, CPU) as percentages ("3.8 %"), milliseconds as
// "12.3 ms" (whole ones from 100 ms), whole numbers as they are, anything else to three
// significant digits.
func FormatValue(metric string, v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprint(v)
	case isFraction(metric):
		return formatPercent(v * 100)
	case strings.HasSuffix(metric, "_ms"):
		if math.Abs(v) >= 100 {
			return fmt.Sprintf("%.0f ms", v)
		}
		return fmt.Sprintf("%.1f ms", v)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// isFraction says whether a metric is a fraction of one (shown in %).
func isFraction(metric string) bool {
	m := metric
	if i := strings.LastIndexAny(m, ".:"); i >= 0 {
		m = m[i+1:]
	}
	switch m {
	case "error_rate", "utilization", "cpu":
		return true
	}
	return false
}

func formatPercent(p float64) string {
	switch {
	case p == 0:
		return "0 %"
	case math.Abs(p) < 0.1:
		return strconv.FormatFloat(p, 'g', 2, 64) + " %"
	}
	return fmt.Sprintf("%.1f %%", p)
}

// FormatSeconds is a duration rounded for people: "6.0 s", "2 min 5 s",
// "2 min", "1 h 2 min".
func FormatSeconds(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%s%.1f s", neg, d.Seconds())
	case d < time.Hour:
		d = d.Round(time.Second)
		return neg + unitPair(int(d/time.Minute), "min", int(d%time.Minute/time.Second), "s")
	}
	d = d.Round(time.Minute)
	return neg + unitPair(int(d/time.Hour), "h", int(d%time.Hour/time.Minute), "min")
}

// unitPair is "2 min 5 s", or "2 min" when the smaller unit is 0.
func unitPair(big int, bigUnit string, small int, smallUnit string) string {
	if small == 0 {
		return fmt.Sprintf("%d %s", big, bigUnit)
	}
	return fmt.Sprintf("%d %s %d %s", big, bigUnit, small, smallUnit)
}

var (
	// the criteria engine's "METRIC VALUE violates|meets EXPR"
	metricValueRe = regexp.MustCompile(`\b([a-z][a-z0-9_.]*) (-?[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?) (violates|meets) `)
	durationRe    = regexp.MustCompile(`\b[0-9]+(?:\.[0-9]+)?(?:h|ms|µs|ns|m|s)(?:[0-9]+(?:\.[0-9]+)?(?:h|ms|µs|ns|m|s))*\b`)
	longFloatRe   = regexp.MustCompile(`\b[0-9]+\.[0-9]{4,}\b`)
)

// Humanize rounds the numbers of a machine-written text (a criterion's
// reason, a state's reason) for people: "error_rate 0.0384615 violates …"
// becomes "error_rate 3.8 % violates …", "1.502345678s" becomes "1.5 s",
// and other long decimals keep three significant digits.
func Humanize(s string) string {
	s = metricValueRe.ReplaceAllStringFunc(s, func(m string) string {
		p := metricValueRe.FindStringSubmatch(m)
		v, err := strconv.ParseFloat(p[2], 64)
		if err != nil {
			return m
		}
		return p[1] + " " + FormatValue(p[1], v) + " " + p[3] + " "
	})
	s = durationRe.ReplaceAllStringFunc(s, func(m string) string {
		d, err := time.ParseDuration(m)
		if err != nil {
			return m
		}
		return FormatSeconds(d)
	})
	return longFloatRe.ReplaceAllStringFunc(s, func(m string) string {
		v, err := strconv.ParseFloat(m, 64)
		if err != nil {
			return m
		}
		return strconv.FormatFloat(v, 'g', 3, 64)
	})
}
