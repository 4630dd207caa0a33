package loadgen

import (
	"math"
	"testing"
	"time"
)

func TestConstantOffsets(t *testing.T) {
	s, err := Constant(200)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		i    int64
		want time.Duration
	}{{0, 0}, {1, 5 * time.Millisecond}, {200, time.Second}, {200 * 600, 10 * time.Minute}} {
		got, ok := s.Offset(c.i)
		if !ok || got != c.want {
			t.Errorf("Offset(%d) = %v, %v; want %v", c.i, got, ok, c.want)
		}
	}
	if n := s.Count(3 * time.Second); n != 600 {
		t.Errorf("Count(3s) = %v, want 600", n)
	}
}

func TestRampCountAndOffsetAgree(t *testing.T) {
	s, err := ParseRamp("0:100/10s, 100:100/5s, 100:0/10s")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Count(10 * time.Second); math.Abs(got-500) > 1e-9 {
		t.Errorf("Count(10s) = %v, want 500 (the area of the first ramp)", got)
	}
	if got := s.Count(time.Hour); math.Abs(got-1500) > 1e-6 {
		t.Errorf("Count(1h) = %v, want 1500: the schedule stops at rate 0", got)
	}
	if r := s.Rate(5 * time.Second); r != 50 {
		t.Errorf("Rate(5s) = %v, want 50", r)
	}
	prev := time.Duration(-1)
	for i := int64(0); i < 1500; i++ {
		off, ok := s.Offset(i)
		if !ok {
			t.Fatalf("Offset(%d) not reached", i)
		}
		if off <= prev {
			t.Fatalf("Offset(%d) = %v not after Offset(%d) = %v", i, off, i-1, prev)
		}
		if c := s.Count(off); math.Abs(c-float64(i)) > 1e-3 {
			t.Fatalf("Count(Offset(%d)=%v) = %v", i, off, c)
		}
		prev = off
	}
	if _, ok := s.Offset(1501); ok {
		t.Error("Offset beyond the schedule's end should not be reached")
	}
	if off, _ := s.Offset(500); math.Abs(off.Seconds()-10) > 1e-6 {
		t.Errorf("Offset(500) = %v, want 10s", off)
	}
}

func TestParseRampRejects(t *testing.T) {
	for _, in := range []string{"", "100", "100:200", "100:200/", "a:200/10s", "100:200/10", "-1:200/10s",
		"100:200/-5s", "0:0/10s", "100:200/0s", "NaN:1/1s", "1:Inf/1s", "100:200/10s,"} {
		if _, err := ParseRamp(in); err == nil {
			t.Errorf("ParseRamp(%q) accepted", in)
		}
	}
	for _, r := range []float64{0, -1, math.NaN(), math.Inf(1), 2e7} {
		if _, err := Constant(r); err == nil {
			t.Errorf("Constant(%v) accepted", r)
		}
	}
}
