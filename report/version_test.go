package report

import (
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// The report shows the poolpilot version of run_opened, and says when a
// folder does not record one.
func TestReportShowsPoolpilotVersion(t *testing.T) {
	f, err := evidence.Open(t.TempDir(), evidence.Options{Plan: "p", RunID: "r1",
		Clock: evidencetest.NewClock(evidencetest.Start), Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := Load(f.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if m.PoolpilotVersion != "v1.2.3" || !strings.Contains(string(Markdown(m, MarkdownOptions{})), "| poolpilot | v1.2.3 |") {
		t.Errorf("version %q not shown:\n%s", m.PoolpilotVersion, Markdown(m, MarkdownOptions{}))
	}
	h, err := HTML(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(h), "v1.2.3") {
		t.Error("the HTML report does not show the version")
	}
	old := load(t, evidencetest.Success)
	if md := string(Markdown(old, MarkdownOptions{})); !strings.Contains(md, "| poolpilot | not recorded |") {
		t.Errorf("a folder without a version:\n%s", md)
	}
}
