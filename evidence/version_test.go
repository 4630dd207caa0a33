package evidence_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// The version of the poolpilot that opened a run is in its run_opened
// line and in EXECUTION_LOG.md; a folder opened without one records none.
func TestRunOpenedRecordsVersion(t *testing.T) {
	for _, version := range []string{"v1.2.3", ""} {
		clock := evidencetest.NewClock(evidencetest.Start)
		f, err := evidence.Open(t.TempDir(), evidence.Options{Plan: "p", RunID: "r1", Clock: clock, Version: version})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Append(evidence.EventStateChange, evidence.StateChange{To: "preflight"}); err != nil {
			t.Fatal(err)
		}
		first := f.Lines()[0]
		var raw map[string]any
		if err := json.Unmarshal(first.Data, &raw); err != nil {
			t.Fatal(err)
		}
		got, present := raw["poolpilot_version"]
		if first.Event != evidence.EventRunOpened || present != (version != "") || (present && got != version) {
			t.Errorf("version %q: first line %s %s", version, first.Event, first.Data)
		}
		if _, err := f.Close(); err != nil {
			t.Fatal(err)
		}
		log, err := os.ReadFile(filepath.Join(f.Dir(), evidence.FileExecutionLog))
		if err != nil {
			t.Fatal(err)
		}
		if want := "opened by poolpilot " + version; (version != "") != strings.Contains(string(log), want) {
			t.Errorf("version %q: EXECUTION_LOG.md:\n%s", version, log)
		}
	}
}
