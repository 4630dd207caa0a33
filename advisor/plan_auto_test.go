package advisor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/plan"
)

// The plan package reads a saved report for change.steps {auto: true}
// without importing this package: its schema and field names must be the
// ones written here.
func TestPlanReadsTheSavedReport(t *testing.T) {
	if plan.SizingReportSchema != Schema {
		t.Fatalf("plan.SizingReportSchema %q, advisor.Schema %q", plan.SizingReportSchema, Schema)
	}
	b, err := json.Marshal(Report{Schema: Schema, Steps: []Step{{Concurrency: 8, Throughput: 10, Excluded: true}},
		Recommended: Recommendation{Max: 8, Refused: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"target":`, `"concurrency":8`, `"throughput":10`, `"excluded":true`, `"recommended":{"max":8`, `"refused":true`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("a saved report lacks %s, which plan/autosteps.go reads:\n%s", key, b)
		}
	}
}
