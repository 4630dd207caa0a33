package criteria

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Op is a comparison operator.
type Op string

const (
	OpLT Op = "<"
	OpLE Op = "<="
	OpGT Op = ">"
	OpGE Op = ">="
	OpEQ Op = "=="
	OpNE Op = "!="
)

// Expr is a parsed "METRIC OP VALUE" expression.
//
//	expr     = metric op value
//	metric   = name ("." name)*            name = [a-z][a-z0-9_]*
//	op       = "<" | "<=" | ">" | ">=" | "==" | "!="
//	value    = number [unit] | "baseline" [("*" number [("+"|"-") number [unit]]) | (("+"|"-") number [unit])]
//	unit     = "ms" | "s" | "m" | "h" | "%"
//
// Numbers are decimal (no hex, no inf/nan). Units convert to the metric's
// own unit: "500ms" and "0.5s" are the same threshold for latency_p95_ms;
// "70%" is 0.7 for a ratio such as pool.utilization.
type Expr struct {
	Metric string
	Op     Op
	// Value is the threshold in the metric's unit, when not Relative.
	Value float64
	// Relative is set for baseline-relative thresholds:
	// threshold = baseline BaseOp Operand.
	Relative bool
	BaseOp   string // "", "*", "+" or "-"
	Operand  float64
	// Offset is added after a factor: "baseline * 1.2 + 50ms" has BaseOp
	// "*", Operand 1.2 and Offset 50, so that a small baseline (a p95 of
	// 1 ms) does not turn scheduling noise into a regression.
	Offset float64
}

// ParseExpr parses s. The error says what is wrong and where.
func ParseExpr(s string) (Expr, error) {
	p := &scanner{s: s}
	var x Expr
	p.space()
	x.Metric = p.name()
	if x.Metric == "" {
		return x, p.errorf("want a metric name such as error_rate or pool.utilization")
	}
	info, ok := LookupMetric(x.Metric)
	if !ok {
		return x, fmt.Errorf("unknown metric %q (known: %s)", x.Metric, metricNames())
	}
	p.space()
	x.Op = p.op()
	if x.Op == "" {
		return x, p.errorf("want a comparison (<, <=, >, >=, ==, !=) after %q", x.Metric)
	}
	p.space()
	if p.word("baseline") {
		if err := p.baseline(&x, info.Kind); err != nil {
			return x, err
		}
	} else {
		v, err := p.quantity(info.Kind)
		if err != nil {
			return x, err
		}
		x.Value = v
	}
	p.space()
	if !p.eof() {
		return x, p.errorf("unexpected %q after the value", p.rest())
	}
	return x, nil
}

func (p *scanner) baseline(x *Expr, kind Kind) error {
	x.Relative = true
	p.space()
	if p.eof() {
		return nil
	}
	switch c := p.s[p.i]; c {
	case '*':
		p.i++
		p.space()
		v, unit, err := p.number()
		if err != nil {
			return err
		}
		if unit != "" {
			return p.errorf("a baseline factor takes no unit (got %q): write e.g. baseline * 1.2", unit)
		}
		if v <= 0 {
			return p.errorf("a baseline factor must be positive (got %v)", v)
		}
		x.BaseOp, x.Operand = "*", v
		p.space()
		if !p.eof() && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			sign := 1.0
			if p.s[p.i] == '-' {
				sign = -1
			}
			p.i++
			p.space()
			off, err := p.quantity(kind)
			if err != nil {
				return err
			}
			x.Offset = sign * off
		}
	case '+', '-':
		p.i++
		p.space()
		v, err := p.quantity(kind)
		if err != nil {
			return err
		}
		x.BaseOp, x.Operand = string(c), v
	default:
		return p.errorf("after baseline want * FACTOR [+ AMOUNT], + AMOUNT or - AMOUNT")
	}
	return nil
}

// Threshold resolves the threshold: Value, or the baseline combined with
// the operand. It fails when a relative expression has no baseline.
func (x Expr) Threshold(baseline float64, haveBaseline bool) (float64, error) {
	if !x.Relative {
		return x.Value, nil
	}
	if !haveBaseline {
		return 0, fmt.Errorf("no baseline for %s", x.Metric)
	}
	switch x.BaseOp {
	case "*":
		return baseline*x.Operand + x.Offset, nil
	case "+":
		return baseline + x.Operand, nil
	case "-":
		return baseline - x.Operand, nil
	}
	return baseline, nil
}

// Holds reports whether "v OP threshold" is true. NaN never holds.
func (x Expr) Holds(v, threshold float64) bool {
	if math.IsNaN(v) || math.IsNaN(threshold) {
		return false
	}
	switch x.Op {
	case OpLT:
		return v < threshold
	case OpLE:
		return v <= threshold
	case OpGT:
		return v > threshold
	case OpGE:
		return v >= threshold
	case OpEQ:
		return v == threshold
	case OpNE:
		return v != threshold
	}
	return false
}

// String returns the canonical form, thresholds in the metric's unit.
func (x Expr) String() string {
	val := fmtNum(x.Value)
	if x.Relative {
		val = "baseline"
		if x.BaseOp != "" {
			val += " " + x.BaseOp + " " + fmtNum(x.Operand)
		}
		if x.Offset > 0 {
			val += " + " + fmtNum(x.Offset)
		} else if x.Offset < 0 {
			val += " - " + fmtNum(-x.Offset)
		}
	}
	return x.Metric + " " + string(x.Op) + " " + val
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

type scanner struct {
	s string
	i int
}

func (p *scanner) eof() bool    { return p.i >= len(p.s) }
func (p *scanner) rest() string { return p.s[p.i:] }

func (p *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("at column %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *scanner) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// name scans [a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*.
func (p *scanner) name() string {
	start := p.i
	for {
		if p.i >= len(p.s) || !isLower(p.s[p.i]) {
			p.i = start
			return ""
		}
		for p.i < len(p.s) && (isLower(p.s[p.i]) || isDigit(p.s[p.i]) || p.s[p.i] == '_') {
			p.i++
		}
		if p.i+1 < len(p.s) && p.s[p.i] == '.' && isLower(p.s[p.i+1]) {
			p.i++
			continue
		}
		return p.s[start:p.i]
	}
}

func (p *scanner) word(w string) bool {
	if !strings.HasPrefix(p.rest(), w) {
		return false
	}
	end := p.i + len(w)
	if end < len(p.s) && (isLower(p.s[end]) || isDigit(p.s[end]) || p.s[end] == '_') {
		return false
	}
	p.i = end
	return true
}

func (p *scanner) op() Op {
	for _, o := range []Op{OpLE, OpGE, OpEQ, OpNE, OpLT, OpGT} {
		if strings.HasPrefix(p.rest(), string(o)) {
			p.i += len(o)
			return o
		}
	}
	return ""
}

// number scans a decimal number and an optional unit.
func (p *scanner) number() (float64, string, error) {
	start := p.i
	if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
		p.i++
	}
	digits := 0
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
		digits++
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
			digits++
		}
	}
	if digits == 0 {
		p.i = start
		return 0, "", p.errorf("want a number or baseline, got %q", p.rest())
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		j := p.i + 1
		if j < len(p.s) && (p.s[j] == '+' || p.s[j] == '-') {
			j++
		}
		if j < len(p.s) && isDigit(p.s[j]) {
			for j < len(p.s) && isDigit(p.s[j]) {
				j++
			}
			p.i = j
		}
	}
	v, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, "", fmt.Errorf("at column %d: number %q is out of range", start+1, p.s[start:p.i])
	}
	ustart := p.i
	for p.i < len(p.s) && (isLower(p.s[p.i]) || p.s[p.i] == '%') {
		p.i++
	}
	return v, p.s[ustart:p.i], nil
}

// quantity scans a number with an optional unit and converts it to kind.
func (p *scanner) quantity(kind Kind) (float64, error) {
	at := p.i
	v, unit, err := p.number()
	if err != nil {
		return 0, err
	}
	if unit == "" {
		return v, nil
	}
	mul, div, ok := unitFactor(kind, unit)
	if !ok {
		return 0, fmt.Errorf("at column %d: unit %q does not apply to a %s metric (%s)", at+1, unit, kind, unitsFor(kind))
	}
	return v * mul / div, nil
}

// unitFactor converts unit to the metric's unit as v*mul/div (division
// keeps 70% == 0.7 exact).
func unitFactor(kind Kind, unit string) (mul, div float64, ok bool) {
	ms := map[string]float64{"ms": 1, "s": 1000, "m": 60000, "h": 3600000}
	switch kind {
	case KindRatio:
		if unit == "%" {
			return 1, 100, true
		}
	case KindMillis:
		if f, ok := ms[unit]; ok {
			return f, 1, true
		}
	case KindSeconds:
		if f, ok := ms[unit]; ok {
			return f, 1000, true
		}
	}
	return 0, 0, false
}

func unitsFor(kind Kind) string {
	switch kind {
	case KindRatio:
		return "write 0.7 or 70%"
	case KindMillis, KindSeconds:
		return "units: ms, s, m, h"
	}
	return "write a plain number"
}
