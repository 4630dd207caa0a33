package evidence

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ProblemIncomplete is a closed run folder that lacks evidence its final
// state needs: a seed file, the comparisons, or a sustained monitoring
// that is only a checkpoint.
const ProblemIncomplete = "incomplete"

// succeededFiles are the files a run that succeeded must hold besides the
// audit log. restart_log.txt is left out while the admin and kube drivers
// do not write one.
var succeededFiles = []string{
	FilePlan, FileChecklist, FileApproval,
	FilePreChangeMetrics, FilePreChangeConfig, FilePreChangeConnections, FilePreChangeErrorRate, FilePreChangeLatency,
	FileDeploymentLog, FileConfigDiff, FilePostChangeConfig,
	FileSyntheticLoadTest, FileSustainedMonitoring, FileErrorRateComparison, FileLatencyComparison,
	FileExecutionLog,
}

// terminalStates are the states a run folder is closed in.
var terminalStates = map[string]bool{"succeeded": true, "settled": true, "rolled-back": true, "rollback-failed": true, "refused": true}

// checkComplete finds what a closed run folder lacks for its final state
// (the last state_change of the audit log). A folder without any
// state_change is not a run's and is not checked.
func checkComplete(dir string, lines []RawLine) []Problem {
	final, seen := "", false
	var good []Line
	for _, rl := range lines {
		if rl.Err == nil {
			good = append(good, rl.Line)
		}
	}
	d := NewDecoder(good)
	for _, l := range good {
		if l.Event != EventStateChange {
			continue
		}
		if sc, err := d.StateChange(l); err == nil {
			final, seen = sc.To, true
		}
	}
	if !seen {
		return nil
	}
	if !terminalStates[final] {
		return []Problem{{Kind: ProblemIncomplete, Message: fmt.Sprintf(
			"the run folder was closed in state %s: the run never reached a final state (succeeded, settled, rolled-back, rollback-failed, refused)", final)}}
	}
	has := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	var need []string
	switch {
	case final == "succeeded":
		need = succeededFiles
	case final == "settled": // a staircase kept a smaller size: its steps too
		need = append(append([]string(nil), succeededFiles...), FileSteps)
	case has(FileSyntheticLoadTest):
		need = []string{FileSustainedMonitoring, FileErrorRateComparison, FileLatencyComparison}
	}
	var probs []Problem
	seenName := map[string]bool{}
	logged := lastRecords(lines)
	for _, n := range need {
		if _, deleted := logged[n]; seenName[n] || has(n) || deleted {
			continue // a logged file that is gone is a file_deleted problem already
		}
		seenName[n] = true
		probs = append(probs, Problem{Kind: ProblemIncomplete, File: n, Message: fmt.Sprintf(
			"evidence incomplete: %s is missing, and a run that ended %s needs it", n, final)})
	}
	if p := checkMonitoring(dir, final); p != nil {
		probs = append(probs, *p)
	}
	return probs
}

// checkMonitoring refuses a sustained_monitoring.json that is a checkpoint
// of a run in progress, or, for a run that succeeded, one whose verdict is
// not pass.
func checkMonitoring(dir, final string) *Problem {
	b, err := os.ReadFile(filepath.Join(dir, FileSustainedMonitoring))
	if err != nil {
		return nil
	}
	var sm SustainedMonitoring
	if json.Unmarshal(b, &sm) != nil {
		return nil // poolpilot writes JSON: an unreadable file is an edited one, reported as such
	}
	if strings.HasPrefix(sm.Reason, "checkpoint") {
		return &Problem{Kind: ProblemIncomplete, File: FileSustainedMonitoring, Message: fmt.Sprintf(
			"evidence incomplete: %s is a checkpoint of a run in progress (%d samples, verdict %s), not the soak's record", FileSustainedMonitoring, len(sm.Samples), sm.Verdict)}
	}
	if (final == "succeeded" || final == "settled") && sm.Verdict != VerdictPass {
		return &Problem{Kind: ProblemIncomplete, File: FileSustainedMonitoring, Message: fmt.Sprintf(
			"evidence incomplete: the run ended succeeded but %s's verdict is %q, not pass", FileSustainedMonitoring, sm.Verdict)}
	}
	return nil
}
