package criteria

import (
	"strings"
	"testing"
)

func TestParseExpr(t *testing.T) {
	cases := []struct {
		in   string
		want string
		th   float64
	}{
		{"error_rate > 0.01", "error_rate > 0.01", 0.01},
		{"error_rate>1%", "error_rate > 0.01", 0.01},
		{"pool.max == 200", "pool.max == 200", 200},
		{"pool.utilization < 70%", "pool.utilization < 0.7", 0.7},
		{"latency_p95_ms > 1s", "latency_p95_ms > 1000", 1000},
		{"latency_p95_ms <= 500ms", "latency_p95_ms <= 500", 500},
		{"downtime_s > 5m", "downtime_s > 300", 300},
		{"downtime_s >= 1500ms", "downtime_s >= 1.5", 1.5},
		{"db.cpu != 0.9", "db.cpu != 0.9", 0.9},
		{"  thrashing   ==   1  ", "thrashing == 1", 1},
		{"promql > 1e3", "promql > 1000", 1000},
		{"pool.waiting >= -1.5e-1", "pool.waiting >= -0.15", -0.15},
	}
	for _, c := range cases {
		x, err := ParseExpr(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if x.String() != c.want {
			t.Errorf("%q: String() = %q, want %q", c.in, x.String(), c.want)
		}
		th, err := x.Threshold(0, false)
		if err != nil || th != c.th {
			t.Errorf("%q: threshold %v (%v), want %v", c.in, th, err, c.th)
		}
	}
}

func TestParseExprBaseline(t *testing.T) {
	cases := []struct {
		in       string
		baseline float64
		th       float64
	}{
		{"latency_p95_ms > baseline * 1.2", 100, 120},
		{"latency_p95_ms > baseline + 50", 100, 150},
		{"latency_p95_ms > baseline + 0.05s", 100, 150},
		{"error_rate > baseline + 0.5%", 0.001, 0.006},
		{"latency_p95_ms > baseline - 10ms", 100, 90},
		{"latency_p95_ms > baseline", 100, 100},
		{"latency_p95_ms <= baseline * 1.2 + 50ms", 1, 51.2},
		{"latency_p95_ms <= baseline * 2 - 0.01s", 100, 190},
		{"error_rate <= baseline * 1.5 + 0.1%", 0.002, 0.004},
	}
	for _, c := range cases {
		x, err := ParseExpr(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if _, err := x.Threshold(0, false); err == nil || !strings.Contains(err.Error(), "no baseline") {
			t.Errorf("%q: threshold without baseline: %v", c.in, err)
		}
		th, err := x.Threshold(c.baseline, true)
		if err != nil || diff(th, c.th) > 1e-9 {
			t.Errorf("%q: threshold %v (%v), want %v", c.in, th, err, c.th)
		}
		y, err := ParseExpr(x.String())
		if err != nil || y != x {
			t.Errorf("%q: round trip %q gave %+v, %v", c.in, x.String(), y, err)
		}
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestParseExprErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "want a metric name"},
		{"> 1", "want a metric name"},
		{"err_rate > 1", `unknown metric "err_rate"`},
		{"error_rate", "want a comparison"},
		{"error_rate = 1", "want a comparison"},
		{"error_rate >> 1", "want a number or baseline"},
		{"error_rate >", "want a number or baseline"},
		{"error_rate > 1ms", `unit "ms" does not apply to a ratio metric`},
		{"latency_p95_ms > 5%", `unit "%" does not apply to a ms metric`},
		{"pool.max == 200x", `unit "x" does not apply`},
		{"pool.max == 200 extra", `unexpected "extra"`},
		{"latency_p95_ms > baseline * 1.2ms", "factor takes no unit"},
		{"latency_p95_ms > baseline * 0", "factor must be positive"},
		{"latency_p95_ms > baseline / 2", "after baseline want"},
		{"pool.max == 1e999", "out of range"},
		{"pool.max == 0x10", `unit "x" does not apply`},
		{"pool.max == nan", "want a number or baseline"},
		{"pool.max == inf", "want a number or baseline"},
	}
	for _, c := range cases {
		_, err := ParseExpr(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.in, err, c.want)
		}
	}
}

func TestHolds(t *testing.T) {
	x := func(s string) Expr { e, _ := ParseExpr(s); return e }
	for _, c := range []struct {
		expr string
		v    float64
		want bool
	}{
		{"pool.max < 10", 9, true}, {"pool.max < 10", 10, false},
		{"pool.max <= 10", 10, true}, {"pool.max > 10", 10, false},
		{"pool.max >= 10", 10, true}, {"pool.max == 10", 10, true},
		{"pool.max != 10", 10, false}, {"pool.max != 10", 11, true},
	} {
		e := x(c.expr)
		if got := e.Holds(c.v, e.Value); got != c.want {
			t.Errorf("%s at %v: %v, want %v", c.expr, c.v, got, c.want)
		}
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"error_rate > 0.01", "latency_p95_ms > baseline * 1.2", "pool.utilization<70%", "downtime_s > 5m", "latency_p95_ms > baseline - 10ms", "latency_p95_ms <= baseline * 1.2 + 50ms", "promql >= -1e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := ParseExpr(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		// The canonical form parses back to the same expression.
		y, err := ParseExpr(x.String())
		if err != nil {
			t.Fatalf("%q parsed, but its canonical form %q does not: %v", s, x.String(), err)
		}
		if y != x {
			t.Fatalf("%q: canonical %q parses to %+v, want %+v", s, x.String(), y, x)
		}
	})
}
