package loadgen

import (
	"testing"
)

func TestParseThreshold(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Threshold
	}{
		{"p95<500ms", Threshold{"p95", "<", 500}},
		{" p(99) <= 1.5s ", Threshold{"p99", "<=", 1500}},
		{"error_rate<0.001", Threshold{"error_rate", "<", 0.001}},
		{"error_rate < 0.1%", Threshold{"error_rate", "<", 0.001}},
		{"dropped==0", Threshold{"dropped", "==", 0}},
		{"violations==0", Threshold{"violations", "==", 0}},
		{"achieved_rate>=490/s", Threshold{"achieved_rate", ">=", 490}},
		{"lag_max<250us", Threshold{"lag_max", "<", 0.25}},
		{"pool_wait_p95<10ms", Threshold{"pool_wait_p95", "<", 10}},
		{"max<1m", Threshold{"max", "<", 60000}},
		{"rate_ratio>0.99", Threshold{"rate_ratio", ">", 0.99}},
	} {
		got, err := ParseThreshold(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseThreshold(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestParseThresholdRejects(t *testing.T) {
	for _, in := range []string{"", "p95", "p95<", "p95<500", "p95<500 ms", "p95<-1ms", "p95<NaNms", "p95<Infs",
		"p95 500ms", "p96<5ms", "error_rate<0.1ms", "errors<5ms", "p95=<5ms", "p95<<5ms", "p95<5msx",
		"latency<5ms", "error_rate<1e999", "errors<0x10", "requests>1_000", "p95<5ms;p99<6ms", "p95 ≤ 5ms"} {
		if th, err := ParseThreshold(in); err == nil {
			t.Errorf("ParseThreshold(%q) accepted: %+v", in, th)
		}
	}
}

func TestThresholdCheck(t *testing.T) {
	r := &Report{LatencyMS: Quantiles{P95: 420}, ErrorRate: 0.002, TargetRate: 100, AchievedRate: 99.5, Dropped: 3}
	for _, c := range []struct {
		expr string
		ok   bool
	}{
		{"p95<500ms", true}, {"p95<0.4s", false}, {"error_rate<0.001", false}, {"error_rate<=0.2%", true},
		{"dropped==0", false}, {"rate_ratio>=0.99", true}, {"pool_wait_p95<10ms", false},
	} {
		th, err := ParseThreshold(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if res := th.Check(r); res.OK != c.ok {
			t.Errorf("%s on %+v: ok=%v (%s), want %v", c.expr, r, res.OK, res.Actual, c.ok)
		}
	}
	ths := []Threshold{{"p95", "<", 500}, {"dropped", "==", 0}}
	if failed := CheckAll(r, ths); len(failed) != 1 || failed[0].Metric != "dropped" || len(r.Thresholds) != 2 {
		t.Errorf("CheckAll failed = %+v, results %+v", failed, r.Thresholds)
	}
}

// FuzzThreshold: the parser never panics, and whatever it accepts it writes
// back in a canonical form that it reads to the same threshold.
func FuzzThreshold(f *testing.F) {
	for _, s := range []string{"p95<500ms", "error_rate<0.1%", "p(99)<=1.5s", "dropped==0", "achieved_rate>=10/s", "lag_max<1e-3us", "p95<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			return
		}
		back, err := ParseThreshold(th.String())
		if err != nil || back != th {
			t.Fatalf("%q parsed to %+v, canonical %q re-parsed to %+v, %v", s, th, th.String(), back, err)
		}
		if th.Value < 0 {
			t.Fatalf("%q: negative value %v accepted", s, th.Value)
		}
		_ = th.Check(&Report{})
	})
}
