package criteria

import (
	"fmt"
	"strconv"
	"time"
)

// Human prints a metric's value rounded for people, in its unit: a ratio
// as a percentage (3.8 %), milliseconds with one decimal (538.8 ms),
// seconds likewise, other numbers whole from 100 up, else with three significant digits.
func Human(metric string, v float64) string {
	info, _ := LookupMetric(metric)
	switch info.Kind {
	case KindRatio:
		return HumanPercent(v)
	case KindMillis:
		return fmt.Sprintf("%.1f ms", v)
	case KindSeconds:
		return fmt.Sprintf("%.1f s", v)
	case KindBool:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	switch {
	case v == float64(int64(v)):
		return strconv.FormatInt(int64(v), 10)
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	}
	return strconv.FormatFloat(roundSig(v, 3), 'f', -1, 64)
}

// roundSig rounds v to n significant digits (at least one decimal kept
// for values under 10).
func roundSig(v float64, n int) float64 {
	s := strconv.FormatFloat(v, 'g', n, 64)
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// HumanPercent prints a ratio as a percentage with at most three
// significant digits: 0.038 → "3.8 %", 0.9 → "90 %".
func HumanPercent(r float64) string {
	return strconv.FormatFloat(roundSig(r*100, 3), 'f', -1, 64) + " %"
}

// HumanDuration prints a duration for people: "6.0 s", "2.5 min", "1.2 h".
func HumanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.1f min", d.Minutes())
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}
