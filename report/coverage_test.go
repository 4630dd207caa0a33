package report

import (
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// The report gives the figures the verdict used, gaps included, beside its
// own derivation from the samples.
func TestCoverageShowsTheVerdictsFigures(t *testing.T) {
	m := load(t, evidencetest.Success)
	sm := m.Files.Monitoring
	sm.WatchedSeconds -= 25
	sm.Gaps = []evidence.WatchGap{{From: sm.Started.Add(40 * time.Second), To: sm.Started.Add(65 * time.Second), Seconds: 25}}
	sm.Coverage[0].Ratio = 0.913
	md := string(Markdown(m, MarkdownOptions{}))
	for _, want := range []string{
		"watched 1 min 35 s of the 2 min soak; 1 gap(s) without evaluation, not counted as watched: 25.0 s from",
		"at least 90 % of the watched time",
		"| " + sm.Coverage[0].Name + " | success | 2 min | 0.0 s | 0.0 s | 91.3 % |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	sm.WatchedSeconds, sm.Coverage, sm.Gaps = 0, nil, nil
	if md := string(Markdown(m, MarkdownOptions{})); strings.Contains(md, "As the verdict counted it") {
		t.Error("a folder without the verdict's figures (an older run) must not claim them")
	}
}
