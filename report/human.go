package report

import (
	"regexp"
	"strconv"
	"time"

	"github.com/poolpilot/poolpilot/criteria"
)

var (
	// the criteria engine's "METRIC VALUE violates|meets EXPR"
	metricValueRe = regexp.MustCompile(`\b([a-z][a-z0-9_.]*) (-?[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?) (violates|meets) `)
	durationRe    = regexp.MustCompile(`\b[0-9]+(?:\.[0-9]+)?(?:h|ms|µs|ns|m|s)(?:[0-9]+(?:\.[0-9]+)?(?:h|ms|µs|ns|m|s))*\b`)
	longFloatRe   = regexp.MustCompile(`\b[0-9]+\.[0-9]{4,}\b`)
)

// Humanize rounds the numbers inside a machine-written text (a criterion's
// reason, a state's reason, also from folders written before the engine
// rounded its reasons) with the criteria package's formatters:
// "error_rate 0.0384615 violates …" becomes "error_rate 3.85 % violates …",
// "1.502345678s" becomes "1.5 s", and other long decimals keep three
// significant digits.
func Humanize(s string) string {
	s = metricValueRe.ReplaceAllStringFunc(s, func(m string) string {
		p := metricValueRe.FindStringSubmatch(m)
		v, err := strconv.ParseFloat(p[2], 64)
		if err != nil {
			return m
		}
		return p[1] + " " + criteria.Human(p[1], v) + " " + p[3] + " "
	})
	s = durationRe.ReplaceAllStringFunc(s, func(m string) string {
		d, err := time.ParseDuration(m)
		if err != nil {
			return m
		}
		return criteria.HumanDuration(d)
	})
	return longFloatRe.ReplaceAllStringFunc(s, func(m string) string {
		v, err := strconv.ParseFloat(m, 64)
		if err != nil {
			return m
		}
		return strconv.FormatFloat(v, 'g', 3, 64)
	})
}
