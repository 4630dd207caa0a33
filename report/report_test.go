package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var scenarios = map[string]evidencetest.Scenario{
	"success": evidencetest.Success, "rollback": evidencetest.Rollback, "refused": evidencetest.Refused,
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./report -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file (go test ./report -update rewrites it)", name)
	}
}

func load(t *testing.T, sc evidencetest.Scenario) *Model {
	t.Helper()
	m, err := Load(evidencetest.Build(t, t.TempDir(), sc))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGoldenReports(t *testing.T) {
	for name, sc := range scenarios {
		t.Run(name, func(t *testing.T) {
			m := load(t, sc)
			golden(t, name+".md", Markdown(m, MarkdownOptions{}))
			files := map[string]string{}
			for _, c := range m.Charts() {
				files[c.ID] = "report-" + c.ID + ".svg"
			}
			golden(t, name+"-charts.md", Markdown(m, MarkdownOptions{ChartFiles: files}))
			h, err := HTML(m)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".html", h)
		})
	}
}

func TestReportContent(t *testing.T) {
	m := load(t, evidencetest.Rollback)
	if m.Verdict != VerdictRolledBack || m.Rollback == nil || !m.Rollback.Automatic || !m.Integrity.OK {
		t.Fatalf("rollback model: verdict %q rollback %+v integrity %v", m.Verdict, m.Rollback, m.Integrity.OK)
	}
	md := string(Markdown(m, MarkdownOptions{}))
	h, _ := HTML(m)
	for _, want := range []string{
		"ROLLED BACK", "Automatic rollback", "latency_high: latency_p95_ms &gt; 1000 held 10s",
		"| all 2 instances | max | 10 | **200** |", "| latency p95 | 46.8 ms | 1290 ms | **+2657.3%** ⚠️ |",
		"| latency_high | rollback (P1) | `latency_p95_ms > 1000` | 10s | 1436 ms | ❌ fail |",
		"rolling-back", "Approved by alice", "None: every seed evidence file is present.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	for _, want := range []string{"Verdict: ROLLED BACK", "<svg", "rollback &gt; 1000 ms for 10s", ">apply</text>", ">rollback</text>", "fired: latency_high", "@media print"} {
		if !strings.Contains(string(h), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

// TestHTMLSelfContained: no script, no external resource of any kind.
func TestHTMLSelfContained(t *testing.T) {
	h, err := HTML(load(t, evidencetest.Success))
	if err != nil {
		t.Fatal(err)
	}
	s := string(h)
	for _, re := range []string{`<script`, `<link`, `<img`, `<iframe`, `src=`, `href=`, `url\(`, `@import`} {
		if regexp.MustCompile(`(?i)` + re).MatchString(s) {
			t.Errorf("HTML contains %s", re)
		}
	}
	if n := strings.Count(s, "<svg"); n != 4 {
		t.Errorf("%d inline charts, want 4", n)
	}
}

// TestRefusedRunSaysWhatIsMissing: a run refused at preflight has no
// baseline, load test or monitoring; the report says so and does not fail.
func TestRefusedRunSaysWhatIsMissing(t *testing.T) {
	m := load(t, evidencetest.Refused)
	md := string(Markdown(m, MarkdownOptions{}))
	for _, want := range []string{"REFUSED", "The run ended in state `refused`", "`sustained_monitoring.json` — sustained monitoring time series",
		"No charts: the run has no `sustained_monitoring.json`.", "Not evaluated", "connection budget exceeded"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	if _, err := HTML(m); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedFolder(t *testing.T) {
	dir := evidencetest.Build(t, t.TempDir(), evidencetest.Success)
	os.WriteFile(filepath.Join(dir, evidence.FileSustainedMonitoring), []byte("{not json"), 0o644)
	os.Remove(filepath.Join(dir, evidence.FileLatencyComparison))
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	md := string(Markdown(m, MarkdownOptions{}))
	for _, want := range []string{"The evidence does not verify", "file latency_comparison.json was deleted", "(and 1 more problem:", "❌ sustained_monitoring.json unreadable", "`latency_comparison.json` — latency comparison"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	if m.Tone != "fail" {
		t.Errorf("tone %q for a folder that does not verify", m.Tone)
	}
	if _, err := HTML(m); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of a folder without audit.jsonl succeeded")
	}
}

func TestChangesKeepInstancesThatDiffer(t *testing.T) {
	snap := func(max1, max2 int) *evidence.ConfigSnapshot {
		return &evidence.ConfigSnapshot{Instances: []evidence.InstanceConfig{
			{Name: "a", Pool: evidence.PoolSetting{Max: max1, Min: 2}}, {Name: "b", Pool: evidence.PoolSetting{Max: max2, Min: 2}}}}
	}
	rows := changes(snap(10, 10), snap(200, 10))
	var got []string
	for _, r := range rows {
		got = append(got, r.Instance+" "+r.Setting+" "+r.Before+"→"+r.After)
	}
	want := "all 2 instances min 2→2|all 2 instances idle_timeout_ms 0→0|all 2 instances connection_timeout_ms 0→0|a max 10→200|b max 10→10"
	if strings.Join(got, "|") != want {
		t.Fatalf("rows\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	if rows := changes(nil, snap(200, 200)); rows[0].Before != "–" || rows[0].After != "200" {
		t.Fatalf("no pre-change config: %+v", rows[0])
	}
}

// TestControllerEventTypes: the change controller records typed events
// (evidence.Apply, ApplyFailed, StateChange …); the report reads them.
func TestControllerEventTypes(t *testing.T) {
	clock := evidencetest.NewClock(evidencetest.Start)
	f, err := evidence.Open(t.TempDir(), evidence.Options{Plan: "p", RunID: "r", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(e evidence.Event) {
		clock.Advance(1e9)
		if err := f.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	ev(evidence.StateChange{From: "window", To: "applying"})
	ev(evidence.Apply{Instance: "ledgerd-1", ToMax: 200, ToMin: 20, Driver: "admin"})
	ev(evidence.ApplyFailed{Instance: "ledgerd-2", ToMax: 200, ToMin: 20, Error: "connection refused"})
	ev(evidence.StateChange{From: "applying", To: "soak"})
	ev(evidence.CriterionFired{Name: "latency_high", Class: "P1", Reason: "p95 1200 ms held 5s", Phase: "soak"})
	ev(evidence.Rollback{Reason: "latency_high fired", Instances: 1, ToMax: 10, ToMin: 2})
	ev(evidence.StateChange{From: "rolling-back", To: "rolled-back", Reason: "restored"})
	if _, err := f.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := Load(f.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if m.Verdict != VerdictRolledBack || m.FinalState != "rolled-back" || len(m.States) != 3 {
		t.Fatalf("verdict %q state %q states %+v", m.Verdict, m.FinalState, m.States)
	}
	md := string(Markdown(m, MarkdownOptions{}))
	for _, want := range []string{
		"applied on ledgerd-1: max 200, min 20 (admin)",
		"latency_high fired [P1] during soak — p95 1200 ms held 5.0 s",
		"**apply_failed**", "rollback: latency_high fired (1 instances to max 10, min 2)",
		"| rolled-back |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	execLog, _ := os.ReadFile(filepath.Join(f.Dir(), evidence.FileExecutionLog))
	if !strings.Contains(string(execLog), "## State: soak") {
		t.Errorf("EXECUTION_LOG.md has no section for the soak:\n%s", execLog)
	}
}

// TestSchema1Folder: a folder written before the audit schema was
// recorded (evidence/testdata/schema1) still makes its report.
func TestSchema1Folder(t *testing.T) {
	m, err := Load(filepath.Join("..", "evidence", "testdata", "schema1", "rollback"))
	if err != nil {
		t.Fatal(err)
	}
	if m.FinalState != "rolled-back" || m.Verdict != VerdictRolledBack || len(m.States) < 5 {
		t.Fatalf("verdict %q state %q states %+v", m.Verdict, m.FinalState, m.States)
	}
}
