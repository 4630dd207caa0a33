package dashboard

import (
	"strings"
	"testing"
	"time"
)

func TestFormatters(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "0s"}, {50 * time.Millisecond, "<0.1s"}, {1500 * time.Millisecond, "1.5s"}, {12 * time.Second, "12s"},
		{90 * time.Second, "1m30s"}, {time.Hour + 2*time.Minute + 3*time.Second, "1h02m03s"}, {-time.Second, "0s"}} {
		if got := fmtDur(c.d); got != c.want {
			t.Errorf("fmtDur(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	v := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		metric string
		v      *float64
		want   string
	}{{"error_rate", v(0.0012), "0.12 %"}, {"pool.utilization", v(0.7), "70 %"}, {"utilization", v(0.25), "25 %"},
		{"latency_p95_ms", v(41.25), "41.2 ms"}, {"pool.wait_p95_ms", v(3), "3.0 ms"}, {"downtime_s", v(2), "2.0 s"},
		{"pool.max", v(200), "200"}, {"error_rate", nil, "—"}} {
		if got := fmtMetric(c.metric, c.v); got != c.want {
			t.Errorf("fmtMetric(%s, %v) = %q, want %q", c.metric, c.v, got, c.want)
		}
	}
}

func TestDownsampleKeepsSpikes(t *testing.T) {
	vals := make([]*float64, 1000)
	for i := range vals {
		x := 1.0
		if i == 517 {
			x = 99
		}
		if i%10 == 3 {
			continue // gaps
		}
		vals[i] = &x
	}
	out := downsample(vals, 100)
	if len(out) != 100 {
		t.Fatalf("%d points", len(out))
	}
	spike := false
	for _, p := range out {
		spike = spike || (p != nil && *p == 99)
	}
	if !spike {
		t.Error("the spike was lost")
	}
	if got := downsample(vals[:5], 100); len(got) != 5 {
		t.Errorf("short series changed: %d", len(got))
	}
}

func TestSparkline(t *testing.T) {
	one, two := 1.0, 2.0
	if s := string(sparkline(nil, nil, "ok")); !strings.Contains(s, "no data") {
		t.Errorf("empty: %s", s)
	}
	s := string(sparkline([]*float64{&one, nil, &two}, &two, "firing"))
	if !strings.Contains(s, "<polyline") || !strings.Contains(s, "stroke-dasharray") || !strings.Contains(s, "#b91c1c") || strings.Contains(s, "NaN") {
		t.Errorf("sparkline: %s", s)
	}
	if s := string(sparkline([]*float64{&one}, nil, "ok")); strings.Contains(s, "NaN") || strings.Contains(s, "Inf") {
		t.Errorf("one point: %s", s)
	}
}
