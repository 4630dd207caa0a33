package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// settledSteps is a steps.json of a run that settled at its first step:
// the second step's p95 rose past the margin.
const settledSteps = `{"plan":"p","from":{"max":10,"min":2},"to":{"max":100,"min":10},
"steps":[
 {"index":0,"size":{"max":20,"min":10},"held":true,"throughput_rps":30,"p95_ms":12,"source":"load_test","db":{"backends":22,"cpu_percent":14},"verdict":"pass","why":"step 1 (20:10) held"},
 {"index":1,"size":{"max":50,"min":10},"held":true,"throughput_rps":29.5,"p95_ms":320,"source":"load_test","verdict":"worse","why":"p95 320.0 ms is 2567 % above step 1's 12.0 ms (margin 20 %)"}],
"outcome":"settled","settled_index":0,"final":{"max":20,"min":10},"why":"step 2 (50:10) was worse: p95 320.0 ms is 2567 % above step 1's 12.0 ms (margin 20 %)",
"stop_when":{"p95_increase":0.2,"throughput_drop":0.05}}`

func loadWithSteps(t *testing.T, steps string) *Model {
	t.Helper()
	dir := evidencetest.Build(t, t.TempDir(), evidencetest.Success)
	if err := os.WriteFile(filepath.Join(dir, evidence.FileSteps), []byte(steps), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStepsChartAndWhyItSettled(t *testing.T) {
	m := loadWithSteps(t, settledSteps)
	sc := m.StepsChart()
	if sc == nil || len(sc.Steps) != 2 || sc.Settled != 0 || sc.Steps[1].Verdict != "worse" || *sc.Steps[1].P95MS != 320 {
		t.Fatalf("steps chart %+v", sc)
	}
	why := "Settled at 20:10: step 2 (50:10) was worse: p95 320.0 ms"
	h, err := HTML(m)
	if err != nil {
		t.Fatal(err)
	}
	html := string(h)
	steps := html[strings.Index(html, "<h2>Steps</h2>"):]
	for _, want := range []string{why, "<figure><svg", "settled here", `class="verdict-worse"`, ">20:10<", ">50:10<"} {
		if !strings.Contains(steps, want) {
			t.Errorf("the HTML report's Steps section lacks %q", want)
		}
	}
	md := string(Markdown(m, MarkdownOptions{ChartFiles: map[string]string{StepsChartID: "report-steps.svg"}}))
	if !strings.Contains(md, "## Steps\n\n"+why) || !strings.Contains(md, "![Steps](report-steps.svg)") || !strings.Contains(md, "| 2 | 50:10 | 29.5/s | 320 ms |") {
		t.Errorf("the Markdown report lacks the steps note, chart or table:\n%s", md)
	}
	if md := string(Markdown(m, MarkdownOptions{})); strings.Contains(md, "![Steps]") {
		t.Error("Markdown without chart files links a steps chart")
	}
}

func TestNoStepsNoStepsChart(t *testing.T) {
	m := load(t, evidencetest.Success)
	if m.StepsChart() != nil {
		t.Error("a run without steps.json has a steps chart")
	}
	reached := strings.Replace(strings.Replace(settledSteps, `"outcome":"settled","settled_index":0`, `"outcome":"reached"`, 1), `"final":{"max":20,"min":10}`, `"final":{"max":100,"min":10}`, 1)
	m = loadWithSteps(t, reached)
	if sc := m.StepsChart(); sc == nil || sc.Settled != -1 || !strings.Contains(m.StepsNote, "the target 100:10 was reached") {
		t.Errorf("a staircase that reached its target: chart %+v, note %q", sc, m.StepsNote)
	}
}
