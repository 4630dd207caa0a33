package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sizingReportJSON is a `poolpilot size --save` report: the ladder up to
// max, size 24 excluded for errors, recommending rec (0: refused).
func sizingReportJSON(t *testing.T, target string, max, rec int) []byte {
	t.Helper()
	type step struct {
		Concurrency int     `json:"concurrency"`
		Throughput  float64 `json:"throughput"`
		P95MS       float64 `json:"p95_ms"`
		Excluded    bool    `json:"excluded,omitempty"`
	}
	var steps []step
	for _, c := range []int{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192} {
		if c <= max {
			steps = append(steps, step{Concurrency: c, Throughput: 100 * float64(min(c, 64)), P95MS: 5, Excluded: c == 24})
		}
	}
	r := map[string]any{"schema": SizingReportSchema, "workload": "select1", "target": target, "steps": steps,
		"recommended": map[string]any{"max": rec, "min": rec / 4, "refused": rec == 0, "reason": "test"}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadAuto writes the seed plan with change.steps: {auto: true} and the
// report (nil: none) next to it, and loads it.
func loadAuto(t *testing.T, report []byte, edit func(string) string) (*Plan, error) {
	t.Helper()
	dir := t.TempDir()
	text := strings.Replace(string(seedPlan(t)), seedChangeTo, seedChangeTo+"\n  steps: {auto: true}", 1)
	if report != nil {
		if err := os.WriteFile(filepath.Join(dir, "sizing.json"), report, 0o644); err != nil {
			t.Fatal(err)
		}
		text = strings.Replace(text, "database:\n", "database:\n  sizing_report: sizing.json\n", 1)
	}
	if edit != nil {
		text = edit(text)
	}
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(path)
}

const dbTarget = "postgres://app:[REDACTED]@db.internal:5432/ledger"

func TestAutoStepsFromTheSizingReport(t *testing.T) {
	p, err := loadAuto(t, sizingReportJSON(t, dbTarget, 192, 64), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Measured between 10 and 200: 12, 16, (24 excluded), 32, 48, 64 | 96,
	// 128, 192 above the recommended 64; then the target.
	want := []Step{{12, 12}, {16, 16}, {32, 20}, {48, 20}, {64, 20}, {200, 20}}
	if len(p.Change.Steps) != len(want) {
		t.Fatalf("steps %+v, want %+v", p.Change.Steps, want)
	}
	for i, s := range want {
		if p.Change.Steps[i] != s {
			t.Errorf("step %d = %+v, want %+v", i, p.Change.Steps[i], s)
		}
	}
	src, ok := p.AutoSteps()
	if !ok || src.Recommended != 64 || !strings.HasSuffix(src.Report, "sizing.json") || src.Target != dbTarget {
		t.Errorf("AutoSteps() = %+v, %v", src, ok)
	}
	if p.Step.Soak == 0 || p.Step.StopWhen.P95Increase != DefaultP95Increase {
		t.Errorf("an auto staircase lacks the step defaults: %+v", p.Step)
	}
	// Its identity is the listed plan's: the normalised YAML (the
	// evidence's plan.yaml) reads back to the same SHA-256.
	q, err := Parse(p.YAML())
	if err != nil {
		t.Fatalf("normalised auto plan: %v\n%s", err, p.YAML())
	}
	if q.SHA256() != p.SHA256() {
		t.Error("the normalised auto plan does not read back the same")
	}
	if _, auto := q.AutoSteps(); auto {
		t.Error("the normalised plan still says auto")
	}
}

func TestAutoStepsWithoutARecommendationTakeEveryMeasuredSize(t *testing.T) {
	p, err := loadAuto(t, sizingReportJSON(t, dbTarget, 192, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, s := range p.Change.Steps {
		got = append(got, s.Max)
	}
	if got, want := fmt.Sprint(got), "[12 16 32 48 64 96 128 192 200]"; got != want {
		t.Errorf("steps %s, want %s (every measured size in range, then the target)", got, want)
	}
}

func TestAutoStepsRefused(t *testing.T) {
	other := "the service whose admin endpoint is http://10.9.9.9:8080/admin/pool"
	cases := []struct {
		name   string
		report []byte
		edit   func(string) string
		msg    string
	}{
		{"no report named", nil, nil, "database.sizing_report names none"},
		{"report missing", nil, func(s string) string {
			return strings.Replace(s, "database:\n", "database:\n  sizing_report: gone.json\n", 1)
		}, "read the sizing report"},
		{"not a size report", []byte(`{"schema":"other/v1"}`), nil, "write it with poolpilot size --save"},
		{"no sizes in range", sizingReportJSON(t, dbTarget, 8, 6), nil, "measured no pool size between change.from.max 10 and change.to.max 200 (it measured 1, 2, 3, 4, 6, 8)"},
		{"recommended below from", sizingReportJSON(t, dbTarget, 192, 8), nil, "recommends max 8, not above change.from.max 10"},
		{"another service", sizingReportJSON(t, other, 192, 64), nil, "another service than this plan's instances"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadAuto(t, tc.report, tc.edit)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), "change.steps: ") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not name change.steps with %q", err, tc.msg)
			}
		})
	}
}

func TestAutoStepsOfTheService(t *testing.T) {
	p0, err := Parse(seedPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	target := "the service whose admin endpoint is " + p0.Instances[0].HealthURL
	if _, err := loadAuto(t, sizingReportJSON(t, target, 192, 64), nil); err != nil {
		t.Errorf("a report of the plan's own service was refused: %v", err)
	}
}

func TestCheckSizingDatabase(t *testing.T) {
	p, err := loadAuto(t, sizingReportJSON(t, dbTarget, 192, 64), nil)
	if err != nil {
		t.Fatal(err)
	}
	for dsn, ok := range map[string]bool{
		"postgres://app:secret@db.internal:5432/ledger?sslmode=require": true,
		"postgresql://other@DB.internal/ledger":                         true,
		"host=db.internal dbname=ledger user=app":                       true,
		"postgres://app:secret@db.internal:5432/billing":                false,
		"postgres://app@replica:5432/ledger":                            false,
	} {
		err := p.CheckSizingDatabase(dsn)
		if (err == nil) != ok {
			t.Errorf("CheckSizingDatabase(%s) = %v, want ok %v", dsn, err, ok)
		}
		if err != nil && (!strings.Contains(err.Error(), "db.internal:5432/ledger") || strings.Contains(err.Error(), "secret")) {
			t.Errorf("error %q does not name the report's database, or shows a password", err)
		}
	}
	listed, err := Parse(p.YAML())
	if err != nil {
		t.Fatal(err)
	}
	if listed.CheckSizingDatabase("postgres://x@elsewhere/other") != nil {
		t.Error("a listed staircase was checked against a sizing report")
	}
}
