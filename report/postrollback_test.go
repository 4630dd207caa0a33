package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// A rolled-back run's post_rollback_monitoring.json is in the report:
// whether the service returned to its baseline, with the problems when it
// did not, in Markdown and HTML.
func TestReportShowsPostRollbackMonitoring(t *testing.T) {
	base := &evidence.Aggregate{ErrorRate: 0.0002, LatencyP95MS: 46.8}
	for _, tc := range []struct {
		name string
		pm   evidence.PostRollbackMonitoring
		want string
	}{
		{"returned", evidence.PostRollbackMonitoring{PlannedSeconds: 900, WatchedSeconds: 900, Baseline: base,
			After: evidence.Aggregate{ErrorRate: 0.0003, LatencyP95MS: 48.2}, ReturnedToBaseline: true},
			"the criteria were watched again for 15 min of the planned 15 min after the rollback; the service returned to its baseline (error rate 0.03 %, p95 48.2 ms; baseline 0.02 %, 46.8 ms)."},
		{"not returned", evidence.PostRollbackMonitoring{PlannedSeconds: 900, WatchedSeconds: 600, Baseline: base,
			Problems: []string{"error rate 4.2 %, baseline 0.02 %", "rollback trigger error_rate_high still firing"}},
			"the criteria were watched again for 10 min of the planned 15 min after the rollback; the service did NOT return to its baseline: error rate 4.2 %, baseline 0.02 %; rollback trigger error_rate_high still firing."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := evidencetest.Build(t, t.TempDir(), evidencetest.Rollback)
			b, err := json.Marshal(tc.pm)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, evidence.FilePostRollbackMonitoring), b, 0o600); err != nil {
				t.Fatal(err)
			}
			m, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			md := string(Markdown(m, MarkdownOptions{}))
			section := md[strings.Index(md, "## Incidents and rollback"):]
			section = section[:strings.Index(section, "\n## ")]
			if !strings.Contains(section, "Post-rollback monitoring (post_rollback_monitoring.json): "+tc.want) {
				t.Errorf("the Markdown report's rollback section lacks %q:\n%s", tc.want, section)
			}
			h, err := HTML(m)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(h), "Post-rollback monitoring (post_rollback_monitoring.json): "+tc.want) {
				t.Errorf("the HTML report lacks the post-rollback monitoring: %q", tc.want)
			}
		})
	}
	// A run without the file (a success) says nothing of it.
	if md := string(Markdown(load(t, evidencetest.Success), MarkdownOptions{})); strings.Contains(md, "Post-rollback monitoring") {
		t.Error("a report without post_rollback_monitoring.json mentions it")
	}
}
