package criteria

import (
	"testing"
	"time"
)

func TestHumanNumbers(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Human("error_rate", 0.0381234), "3.81 %"}, {Human("error_rate", 0.9), "90 %"}, {HumanPercent(0.001), "0.1 %"},
		{Human("latency_p95_ms", 538.777303), "538.8 ms"}, {Human("downtime_s", 12.34), "12.3 s"},
		{Human("db.connections", 12345.6), "12346"}, {Human("pool.churn", 0.123456), "0.123"}, {Human("pool.max", 200), "200"},
		{HumanDuration(4867978911 * time.Nanosecond), "4.9 s"}, {HumanDuration(150 * time.Second), "2.5 min"}, {HumanDuration(90 * time.Minute), "1.5 h"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
