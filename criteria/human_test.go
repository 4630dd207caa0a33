package criteria

import (
	"math"
	"testing"
	"time"
)

func TestHumanNumbers(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Human("error_rate", 0.0381234), "3.81 %"}, {Human("error_rate", 0.9), "90 %"}, {HumanPercent(0.001), "0.1 %"},
		{Human("error_rate", 0), "0 %"}, {Human("error_rate", 0.00038), "0.038 %"}, {Human("pool.utilization", 0.5), "50 %"},
		{Human("latency_p95_ms", 538.777303), "539 ms"}, {Human("latency_p95_ms", 12.345), "12.3 ms"}, {Human("downtime_s", 12.34), "12.3 s"},
		{Human("downtime_s", 125), "2 min 5 s"}, {Human("utilization", 0.93), "93 %"}, {Human("wait_p95_ms", 480), "480 ms"}, {Human("reachable", 1), "1"}, {Human("pool.max", math.NaN()), "NaN"},
		{Human("db.connections", 12345.6), "12346"}, {Human("pool.churn", 0.123456), "0.123"}, {Human("pool.max", 200), "200"},
		{HumanDuration(4867978911 * time.Nanosecond), "4.9 s"}, {HumanDuration(150 * time.Second), "2 min 30 s"}, {HumanDuration(90 * time.Minute), "1 h 30 min"},
		{HumanDuration(2 * time.Minute), "2 min"}, {HumanDuration(-1502 * time.Millisecond), "-1.5 s"},
		{Result{Expr: "pool.wait_p95_ms < baseline * 2"}.Metric(), "pool.wait_p95_ms"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
