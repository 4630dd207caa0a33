package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/poolpilot/poolpilot/chart"
	"github.com/poolpilot/poolpilot/evidence"
)

// Verdicts of a run, as the report states them.
const (
	VerdictSucceeded      = "succeeded"
	VerdictSettled        = "settled"
	VerdictRolledBack     = "rolled back"
	VerdictRollbackFailed = "rollback failed"
	VerdictRefused        = "refused"
	VerdictIncomplete     = "incomplete"
)

// Model is everything the report shows, read from one run folder.
type Model struct {
	// Steps and StepsNote describe a staircase change (steps.json).
	Steps     []StepRow         `json:"steps,omitempty"`
	StepsNote string            `json:"steps_note,omitempty"`
	stairs    []chart.StairStep // the steps chart's data
	settled   int               // the step the run settled at, -1: none
	Dir       string            `json:"dir"`
	Plan      string            `json:"plan"`
	RunID     string            `json:"run_id"`
	// PoolpilotVersion is the version recorded in run_opened ("" when the
	// folder does not record it).
	PoolpilotVersion string `json:"poolpilot_version"`
	Verdict          string `json:"verdict"`
	FinalState       string `json:"final_state"`
	Summary          string `json:"summary"`
	// Tone is "ok", "fail" or "warn", for colours.
	Tone      string             `json:"tone"`
	Start     time.Time          `json:"start"`
	End       time.Time          `json:"end"`
	Integrity evidence.Result    `json:"integrity"`
	States    []StateSpan        `json:"states"`
	Timeline  []TimelineEntry    `json:"timeline"`
	Changes   []ChangeRow        `json:"changes"`
	Compare   []CompareRow       `json:"compare"`
	Incidents []TimelineEntry    `json:"incidents"`
	Rollback  *evidence.Rollback `json:"rollback,omitempty"`
	Missing   []MissingFile      `json:"missing"`
	// Coverage is each criterion's coverage of the soak (conclusive,
	// inconclusive, not watched), from sustained_monitoring.json.
	Coverage []CriterionCoverage `json:"coverage,omitempty"`
	Errors   []string            `json:"errors"`

	ConfigDiff   string          `json:"config_diff,omitempty"`
	ErrorRateTxt string          `json:"error_rate_comparison,omitempty"`
	Files        Files           `json:"-"`
	Lines        []evidence.Line `json:"-"`

	// PostRollbackNote says whether the service returned to its baseline
	// after a rollback (post_rollback_monitoring.json).
	PostRollbackNote string `json:"post_rollback_note,omitempty"`
}

// Files holds the parsed structured evidence files; nil when absent.
type Files struct {
	PreMetrics *evidence.PreChangeMetrics
	PreConfig  *evidence.ConfigSnapshot
	PreLatency *evidence.LatencyReport
	PostConfig *evidence.ConfigSnapshot
	LoadTest   *evidence.LoadTestResults
	Monitoring *evidence.SustainedMonitoring
	Latency    *evidence.LatencyComparison
	Approval   *evidence.ApprovalRecord
	Checklist  *evidence.Checklist
	// PostRollback is post_rollback_monitoring.json.
	PostRollback *evidence.PostRollbackMonitoring
}

// StateSpan is the time the run spent in one state.
type StateSpan struct {
	State    string        `json:"state"`
	Entered  time.Time     `json:"entered"`
	Duration time.Duration `json:"duration_ns"`
	Reason   string        `json:"reason,omitempty"`
}

// TimelineEntry is one audit event, described.
type TimelineEntry struct {
	Time  time.Time `json:"time"`
	Seq   uint64    `json:"seq"`
	Actor string    `json:"actor"`
	Event string    `json:"event"`
	Text  string    `json:"text"`
}

// MissingFile is an evidence file the folder does not have.
type MissingFile struct {
	Name    string `json:"name"`
	Meaning string `json:"meaning"`
}

// seedFiles are the seed's evidence files and what each holds, in order.
var seedFiles = []MissingFile{
	{evidence.FilePlan, "the plan as run"},
	{evidence.FileChecklist, "pre-launch checklist"},
	{evidence.FileApproval, "approval record"},
	{evidence.FilePreChangeMetrics, "system health snapshot before the change"},
	{evidence.FilePreChangeConfig, "pool configuration before the change"},
	{evidence.FilePreChangeConnections, "active connections before the change"},
	{evidence.FilePreChangeErrorRate, "error rate baseline"},
	{evidence.FilePreChangeLatency, "latency baseline"},
	{evidence.FileDeploymentLog, "deployment log"},
	{evidence.FileConfigDiff, "configuration change diff"},
	{evidence.FileRestartLog, "rolling restart log"},
	{evidence.FilePostChangeConfig, "pool configuration verified after the change"},
	{evidence.FileSyntheticLoadTest, "synthetic load test results"},
	{evidence.FileSustainedMonitoring, "sustained monitoring time series"},
	{evidence.FileErrorRateComparison, "error rate comparison"},
	{evidence.FileLatencyComparison, "latency comparison"},
	{evidence.FileExecutionLog, "execution log"},
}

// Load reads a run folder. It fails only when dir is not an evidence
// folder; every missing or unreadable file is recorded in the Model.
func Load(dir string) (*Model, error) {
	res, err := evidence.Verify(dir, nil)
	if err != nil {
		return nil, err
	}
	m := &Model{Dir: dir, RunID: filepath.Base(dir), Integrity: res, Missing: []MissingFile{}, Errors: []string{}}
	data, err := os.ReadFile(filepath.Join(dir, evidence.FileAudit))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", evidence.ErrNotEvidence, err)
	}
	for _, rl := range evidence.ReadAuditLines(data) {
		if rl.Err == nil {
			m.Lines = append(m.Lines, rl.Line)
		} else {
			m.Errors = append(m.Errors, fmt.Sprintf("audit.jsonl line %d skipped: it %v", rl.N, rl.Err))
		}
	}
	m.loadFiles()
	m.derive()
	return m, nil
}

func (m *Model) loadFiles() {
	f := &m.Files
	m.readJSON(evidence.FilePreChangeMetrics, &f.PreMetrics)
	m.readJSON(evidence.FilePreChangeConfig, &f.PreConfig)
	m.readJSON(evidence.FilePreChangeLatency, &f.PreLatency)
	m.readJSON(evidence.FilePostChangeConfig, &f.PostConfig)
	m.readJSON(evidence.FileSyntheticLoadTest, &f.LoadTest)
	m.readJSON(evidence.FileSustainedMonitoring, &f.Monitoring)
	m.readJSON(evidence.FileLatencyComparison, &f.Latency)
	m.readJSON(evidence.FileApproval, &f.Approval)
	m.readJSON(evidence.FileChecklist, &f.Checklist)
	m.readJSON(evidence.FilePostRollbackMonitoring, &f.PostRollback)
	m.ConfigDiff = m.readText(evidence.FileConfigDiff)
	m.ErrorRateTxt = m.readText(evidence.FileErrorRateComparison)
	m.loadSteps()
	for _, sf := range seedFiles {
		if _, err := os.Stat(filepath.Join(m.Dir, sf.Name)); errors.Is(err, fs.ErrNotExist) {
			m.Missing = append(m.Missing, sf)
		}
	}
}

// readJSON decodes a file into *dst (a pointer to a pointer); a missing
// file leaves it nil, a bad one is recorded in Errors.
func (m *Model) readJSON(name string, dst any) {
	b, err := os.ReadFile(filepath.Join(m.Dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err == nil {
		err = json.Unmarshal(b, dst)
	}
	if err != nil {
		m.Errors = append(m.Errors, fmt.Sprintf("%s unreadable: %v", name, err))
	}
}

func (m *Model) readText(name string) string {
	b, err := os.ReadFile(filepath.Join(m.Dir, name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		m.Errors = append(m.Errors, fmt.Sprintf("%s unreadable: %v", name, err))
	}
	return string(b)
}
