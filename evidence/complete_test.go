package evidence_test

import (
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// A closed folder whose run says succeeded but whose soak record is a
// checkpoint and whose comparisons were never written does not verify,
// and says what is missing.
func TestClosedButIncompleteDoesNotVerify(t *testing.T) {
	f, err := evidence.Open(t.TempDir(), evidence.Options{Plan: "p", RunID: "r1", Clock: evidencetest.NewClock(evidencetest.Start)})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.Write(evidence.FilePlan, []byte("name: p\n")))
	must(f.WriteJSON(evidence.FileSustainedMonitoring, evidence.SustainedMonitoring{Verdict: evidence.VerdictInconclusive,
		Reason: "checkpoint: the run is in progress", Samples: []evidence.Sample{{Time: evidencetest.Start}}}))
	must(f.Append(evidence.EventStateChange, evidence.StateChange{To: "succeeded"}))
	_, err = f.Close()
	must(err)
	res, err := evidence.Verify(f.Dir(), nil)
	must(err)
	if res.OK {
		t.Fatal("an incomplete closed folder verifies as intact")
	}
	var msgs []string
	for _, p := range res.Problems {
		if p.Kind != evidence.ProblemIncomplete {
			t.Errorf("unexpected problem %+v", p)
		}
		msgs = append(msgs, p.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"error_rate_comparison.txt is missing", "latency_comparison.json is missing",
		"pre_change_metrics.json is missing", "sustained_monitoring.json is a checkpoint"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
}

// The complete fixtures (succeeded, rolled back, refused) verify.
func TestCompleteFixturesVerify(t *testing.T) {
	for _, sc := range []evidencetest.Scenario{evidencetest.Success, evidencetest.Rollback, evidencetest.Refused} {
		dir := evidencetest.Build(t, t.TempDir(), sc)
		res, err := evidence.Verify(dir, nil)
		if err != nil || !res.OK {
			t.Errorf("scenario %d: %v %+v", sc, err, res.Problems)
		}
	}
}
