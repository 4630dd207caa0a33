package httpapi

import (
	"math"
	"testing"
	"time"
)

func near(got, want, relTol float64) bool {
	return math.Abs(got-want) <= relTol*math.Abs(want)
}

func TestWindowPercentilesAndErrorRate(t *testing.T) {
	clock := newFakeClock()
	w := newRequestWindow(clock, time.Minute)
	// 1..1000 ms, one each; every 100th is an error.
	for i := 1; i <= 1000; i++ {
		w.record(time.Duration(i)*time.Millisecond, i%100 == 0)
	}
	st := w.snapshot()
	if st.Total != 1000 || st.Errors != 10 {
		t.Fatalf("total/errors = %d/%d, want 1000/10", st.Total, st.Errors)
	}
	if st.ErrorRate != 0.01 {
		t.Errorf("error rate = %v, want 0.01", st.ErrorRate)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p50", st.LatencyP50MS, 500}, {"p95", st.LatencyP95MS, 950}, {"p99", st.LatencyP99MS, 990}} {
		if !near(c.got, c.want, 0.01) {
			t.Errorf("%s = %.3f ms, want %.0f ms ±1%%", c.name, c.got, c.want)
		}
	}
	if st.WindowSeconds != 60 {
		t.Errorf("window = %v s, want 60", st.WindowSeconds)
	}
}

func TestWindowSlidesWithClock(t *testing.T) {
	clock := newFakeClock()
	w := newRequestWindow(clock, time.Minute)
	for i := 0; i < 100; i++ {
		w.record(900*time.Millisecond, true) // old, slow, failing
	}
	clock.Advance(30 * time.Second)
	for i := 0; i < 100; i++ {
		w.record(10*time.Millisecond, false)
	}
	st := w.snapshot()
	if st.Total != 200 || st.Errors != 100 {
		t.Fatalf("at +30s: total/errors = %d/%d, want 200/100", st.Total, st.Errors)
	}
	// 61 s after the first burst it has left the window; the second has not.
	clock.Advance(31 * time.Second)
	st = w.snapshot()
	if st.Total != 100 || st.Errors != 0 || st.ErrorRate != 0 {
		t.Fatalf("at +61s: total/errors/rate = %d/%d/%v, want 100/0/0", st.Total, st.Errors, st.ErrorRate)
	}
	if !near(st.LatencyP99MS, 10, 0.01) {
		t.Errorf("p99 = %v ms, want 10 (the slow burst has expired)", st.LatencyP99MS)
	}
	// A slot reused after a full lap must not keep the old counts.
	clock.Advance(2 * time.Minute)
	w.record(time.Millisecond, false)
	if st = w.snapshot(); st.Total != 1 {
		t.Fatalf("after a lap: total = %d, want 1", st.Total)
	}
	clock.Advance(2 * time.Minute)
	if st = w.snapshot(); st.Total != 0 || st.LatencyP99MS != 0 || st.ErrorRate != 0 {
		t.Fatalf("empty window = %+v, want zeros", st)
	}
}

func TestWindowClampsExtremes(t *testing.T) {
	w := newRequestWindow(newFakeClock(), time.Minute)
	w.record(0, false)
	w.record(5*time.Hour, false)
	st := w.snapshot()
	if st.Total != 2 {
		t.Fatalf("total = %d, want 2", st.Total)
	}
	if !near(st.LatencyP99MS, float64(time.Hour/time.Millisecond), 0.01) {
		t.Errorf("p99 = %v ms, want about 1h (clamped)", st.LatencyP99MS)
	}
}

func TestWindowConcurrent(t *testing.T) {
	w := newRequestWindow(newFakeClock(), time.Minute)
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 1000; i++ {
				w.record(time.Millisecond, i%2 == 0)
				if i%100 == 0 {
					_ = w.snapshot()
				}
			}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	if st := w.snapshot(); st.Total != 8000 || st.Errors != 4000 {
		t.Fatalf("total/errors = %d/%d, want 8000/4000", st.Total, st.Errors)
	}
}
