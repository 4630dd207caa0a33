package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/redact"
)

// writeAutoPlan rewrites the stair fixture's plan with change.steps:
// {auto: true} and the saved size report testdata/sizing_auto.json
// (sweep 1…64, recommended 32), its target set to the fixture's database.
func writeAutoPlan(t *testing.T, f *runFixture) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sizing_auto.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	rep["target"] = redact.DSN(f.Env["DATABASE_URL"])
	if b, err = json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.Dir, "sizing.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	listed := *f.P
	listed.Change.Steps = nil
	text := string(listed.YAML())
	for _, edit := range [][2]string{{"change:\n", "change:\n  steps: {auto: true}\n"}, {"database:\n", "database:\n  sizing_report: sizing.json\n"}} {
		if !strings.Contains(text, edit[0]) {
			t.Fatalf("the fixture's plan has no %q:\n%s", edit[0], text)
		}
		text = strings.Replace(text, edit[0], edit[1], 1)
	}
	if err := os.WriteFile(f.PlanFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := plan.Load(f.PlanFile)
	if err != nil {
		t.Fatalf("the auto plan does not load: %v\n%s", err, text)
	}
	f.P = p
}

// A staircase whose steps come from a saved size report: 10:2 → 100:10
// through the measured 16 and 32 (the recommended max; 64 measured no
// better), then the target.
func TestRunAutoStaircaseFromASizeReport(t *testing.T) {
	f := newStairFixtureWith(t, plan.StopWhen{P95Increase: 100, ThroughputDrop: 0.5})
	writeAutoPlan(t, f)
	f.Approve()
	want := []plan.Step{{Max: 16, Min: 10}, {Max: 32, Min: 10}, {Max: 100, Min: 10}}
	if len(f.P.Change.Steps) != len(want) || f.P.Change.Steps[0] != want[0] || f.P.Change.Steps[1] != want[1] || f.P.Change.Steps[2] != want[2] {
		t.Fatalf("auto steps %+v, want %+v", f.P.Change.Steps, want)
	}
	// plan check says where the steps came from; a report of another
	// database is refused there and by run, exit 2, before anything runs.
	out, _, code := f.CLI(f.Env, "plan", "check", f.PlanFile)
	if code != 0 || !strings.Contains(out, "{auto: true} from the sizing report") || !strings.Contains(out, "16:10 → 32:10 → 100:10") {
		t.Errorf("plan check: exit %d\n%s", code, out)
	}
	other := map[string]string{}
	for k, v := range f.Env {
		other[k] = v
	}
	other["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/another_db"
	for _, args := range [][]string{{"plan", "check", f.PlanFile}, {"run", f.PlanFile}} {
		if _, stderr, code := f.CLI(other, args...); code != poolpilot.ExitBadInput || !strings.Contains(stderr, "measured database 127.0.0.1:") || !strings.Contains(stderr, "points to 127.0.0.1:5432/another_db") {
			t.Errorf("%s with another database: exit %d: %s", args[0], code, stderr)
		}
	}

	res := f.runJSON(t, f.runAsync("run", f.PlanFile, "--json"), 0)
	if res.State != change.StateSucceeded {
		t.Fatalf("outcome %s: %s", res.State, res.Reason)
	}
	f.ExpectAllAt(f.P.Change.To)
	ev := readSteps(t, res.Dir)
	if ev.Outcome != "reached" || len(ev.Steps) != 3 || ev.Steps[0].Size != want[0].Size() || ev.Steps[1].Size != want[1].Size() {
		t.Fatalf("steps.json: outcome %s, steps %+v", ev.Outcome, ev.Steps)
	}
	// The evidence's plan.yaml lists the steps (the report is not in the
	// folder) and reads back to the plan that was approved and run.
	raw, err := os.ReadFile(filepath.Join(res.Dir, evidence.FilePlan))
	if err != nil {
		t.Fatal(err)
	}
	ran, err := plan.Parse(raw)
	if err != nil || ran.SHA256() != f.P.SHA256() || !strings.HasPrefix(string(raw), "# change.steps {auto: true} from the sizing report") {
		t.Errorf("evidence plan.yaml: %v, sha %v\n%s", err, ran != nil && ran.SHA256() == f.P.SHA256(), raw)
	}
	mustVerify(t, res.Dir)
}
