package advisor

import (
	"encoding/json"
	"strings"
	"testing"
)

// The plan package reads a saved report for change.steps {auto: true}
// without importing this package: the field names it reads must be the
// ones written here (the schema is plan.SizingReportSchema).
func TestPlanReadsTheSavedReport(t *testing.T) {
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
