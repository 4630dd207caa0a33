package report

import (
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// Humanize rounds the numbers of free text with the criteria package's
// formatters.
func TestHumanize(t *testing.T) {
	in := "error_rate_ok: error_rate 0.038461538461538464 violates error_rate < 0.01 for 1.502345678s, fires in 2.497654322s (max_inconclusive 1m0s), ratio 0.123456789"
	want := "error_rate_ok: error_rate 3.85 % violates error_rate < 0.01 for 1.5 s, fires in 2.5 s (max_inconclusive 1 min), ratio 0.123"
	if got := Humanize(in); got != want {
		t.Errorf("Humanize:\n got %s\nwant %s", got, want)
	}
}

// The headline says the soak held every success criterion only when each
// was conclusive for the whole soak; otherwise it names the ones that were
// not, and for how long.
func TestHeadlineNamesInconclusiveCriteria(t *testing.T) {
	start := evidencetest.Start
	sm := &evidence.SustainedMonitoring{Started: start, Ended: start.Add(40 * time.Second), IntervalSeconds: 1, Verdict: evidence.VerdictPass,
		Criteria: []evidence.CriterionResult{{Name: "error_rate", Role: "success"}, {Name: "latency", Role: "success"}, {Name: "p0", Role: "rollback"}}}
	for i := range 40 {
		st := map[string]string{"error_rate": "ok", "latency": "ok", "p0": "inconclusive"}
		if i >= 30 && i < 36 {
			st["error_rate"] = "inconclusive"
		}
		sm.Samples = append(sm.Samples, evidence.Sample{Time: start.Add(time.Duration(i) * time.Second), States: st})
	}
	got := soakHeadline(sm)
	if strings.Contains(got, "held every success criterion") || !strings.Contains(got, "error_rate inconclusive for 6.0 s of the 40.0 s soak") || strings.Contains(got, "latency") {
		t.Errorf("headline with error_rate inconclusive 6 s: %s", got)
	}
	cov := Coverage(sm)
	if cov[0].Conclusive != 34*time.Second || cov[0].Inconclusive != 6*time.Second || cov[0].Unwatched != 0 {
		t.Errorf("coverage of error_rate: %+v", cov[0])
	}
	// A 10 s hole in the samples (a frozen controller) is not watched time.
	holed := *sm
	holed.Samples = append(append([]evidence.Sample(nil), sm.Samples[:10]...), sm.Samples[20:30]...)
	if got := soakHeadline(&holed); !strings.Contains(got, "not watched for") || strings.Contains(got, "held every") {
		t.Errorf("headline with a hole in the samples: %s", got)
	}
	for i := range sm.Samples {
		sm.Samples[i].States["error_rate"] = "ok"
	}
	if got := soakHeadline(sm); !strings.Contains(got, "held every success criterion for the whole soak (40.0 s") {
		t.Errorf("headline when everything was observed: %s", got)
	}
}
