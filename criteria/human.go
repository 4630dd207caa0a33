package criteria

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The one way poolpilot prints numbers for people (the report, the
// dashboard, the progress lines, the engine's reasons, the CLI). A metric's
// kind, from the vocabulary, decides its unit:
//
//	ratio    a percentage to three significant digits: 3.81 %, 90 %, 0.038 %
//	ms       one decimal below 100 ms, whole from 100 ms: 12.3 ms, 539 ms
//	seconds  a duration (HumanDuration): 12.3 s, 2 min 5 s
//	count    whole numbers as they are, whole from 100 up, else three
//	         significant digits: 200, 12346, 0.123
//	bool     as it is: 0, 1

// Human prints a metric's value rounded for people, in the unit of the
// metric's kind (a metric outside the vocabulary is a count).
func Human(metric string, v float64) string {
	return HumanKind(kindOf(metric), v)
}

// kindOf is the kind of a vocabulary metric, or of an evidence folder's
// fleet series, whose pool ones drop the vocabulary's "pool." prefix
// ("utilization", "wait_p95_ms").
func kindOf(metric string) Kind {
	if info, ok := LookupMetric(metric); ok {
		return info.Kind
	}
	info, _ := LookupMetric("pool." + metric)
	return info.Kind
}

// HumanKind prints a value of the given kind rounded for people.
func HumanKind(kind Kind, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	switch kind {
	case KindRatio:
		return HumanPercent(v)
	case KindMillis:
		return HumanMillis(v)
	case KindSeconds:
		return HumanSeconds(v)
	case KindBool:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return strconv.FormatFloat(roundSig(v, 3), 'f', -1, 64)
}

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	return f
}

// HumanPercent prints a ratio as a percentage with at most three
// significant digits: 0.038 → "3.8 %", 0.9 → "90 %".
func HumanPercent(r float64) string {
	return strconv.FormatFloat(roundSig(r*100, 3), 'f', -1, 64) + " %"
}

// HumanMillis prints milliseconds: one decimal below 100 ms ("12.3 ms"),
// whole from 100 ms ("539 ms").
func HumanMillis(v float64) string {
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

// HumanSeconds prints a number of seconds as HumanDuration does.
func HumanSeconds(s float64) string {
	return HumanDuration(time.Duration(s * float64(time.Second)))
}

// HumanDuration prints a duration for people: "6.0 s", "2 min 5 s",
// "2 min", "1 h 2 min".
func HumanDuration(d time.Duration) string {
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

// Metric is the metric the result's expression starts with ("error_rate"
// of "error_rate < 0.01"), to print its value with Human.
func (r Result) Metric() string {
	f := strings.Fields(r.Expr)
	if len(f) == 0 {
		return ""
	}
	return strings.TrimRight(f[0], "(")
}
