package runner

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/criteria"
)

func TestProgressTextRoundsForPeople(t *testing.T) {
	v, lat := 0.038461538461538464, 1435.62
	ev := criteria.Evaluation{Results: []criteria.Result{
		{Name: "error_rate", Expr: "error_rate < 0.01", State: criteria.StatePending, Value: &v, HeldS: 1.502345678, LeftS: 2.497654322},
		{Name: "latency_high", Expr: "latency_p95_ms > 1000", State: criteria.StateFiring, Value: &lat, HeldS: 6.0312},
		{Name: "wait", Expr: "pool.wait_p95_ms < 50", State: criteria.StateInconclusive, HeldS: 6},
		{Name: "ok", Expr: "pool.max == 100", State: criteria.StateOK},
	}}
	now := time.Date(2026, 2, 1, 7, 1, 2, 0, time.UTC)
	got := progressText(now, "soak", 2500*time.Millisecond, 40*time.Second, ev)
	want := "07:01:02  [soak 2.5 s elapsed, 37.5 s left] ok 1, pending 1, firing 1, inconclusive 1: " +
		"error_rate 3.85 % pending (held 1.5 s, fires in 2.5 s), latency_high 1436 ms FIRING (held 6.0 s), wait inconclusive for 6.0 s"
	if got != want {
		t.Errorf("progress line:\n got %s\nwant %s", got, want)
	}
	if strings.Contains(got, "0.0384") {
		t.Error("raw float in the progress line")
	}
}

func TestStateLinesRoundedForPeople(t *testing.T) {
	var b strings.Builder
	h := humanWriter{&b}
	fmt.Fprintf(h, "07:14:28  → rolling-back (%s)\n", "latency_p95: success criterion latency_p95 never held during the soak (last: pending, latency_p95_ms 522.239 violates latency_p95_ms < 500 for 3.476832812s, fires in 523.167188ms)")
	want := "07:14:28  → rolling-back (latency_p95: success criterion latency_p95 never held during the soak (last: pending, latency_p95_ms 522 ms violates latency_p95_ms < 500 for 3.5 s, fires in 0.5 s))\n"
	if b.String() != want {
		t.Errorf("state line:\n got %s\nwant %s", b.String(), want)
	}
}
