package dashboard

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
	"github.com/poolpilot/poolpilot/plan"
)

// stepsJSON is a steps.json: the first step held; the second (when
// given) was worse, and the run settled at the first.
func stepsJSON(t *testing.T, settled bool) []byte {
	t.Helper()
	ev := change.StepsEvidence{Plan: "p", From: plan.PoolSize{Max: 10, Min: 2}, To: plan.PoolSize{Max: 200, Min: 20}, Outcome: "climbing",
		Steps: []change.StepResult{{Index: 0, Size: plan.PoolSize{Max: 20, Min: 10}, Held: true, Throughput: f64(30), P95MS: f64(12.5), Verdict: change.StepPass, Why: "step 1 (20:10) held"}}}
	if settled {
		zero := 0
		ev.Steps = append(ev.Steps, change.StepResult{Index: 1, Size: plan.PoolSize{Max: 50, Min: 20}, Held: true, Throughput: f64(29), P95MS: f64(320), Verdict: change.StepWorse, Why: "p95 up 2460 %"})
		ev.Outcome, ev.Settled, ev.Final, ev.Why = "settled", &zero, ev.Steps[0].Size, "step 2 (50:20) was worse: p95 up 2460 %"
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLiveRunShowsItsSteps(t *testing.T) {
	lf := newLive(t, Options{Token: testToken})
	id := lf.folder.RunID()
	api := lf.srv.URL + "/api/runs/" + id
	lf.state(t, change.StatePreflight, change.StateStepping, "")
	step := func(i, max, min int) {
		if err := lf.folder.Record(evidence.Step{Index: i, Max: max, Min: min, Phase: "start"}); err != nil {
			t.Fatal(err)
		}
	}
	step(0, 20, 10)
	v := waitFor(t, api, "the first step watched", func(v View) bool { return v.Steps != nil && v.Steps.Current != nil })
	if c := v.Steps.Current; c.Index != 0 || c.Max != 20 || c.Min != 10 || len(v.Steps.Rows) != 0 {
		t.Errorf("first step: %+v", v.Steps)
	}
	// Step 1 judged (steps.json rewritten), step 2 started.
	if err := lf.folder.Write(evidence.FileSteps, stepsJSON(t, false)); err != nil {
		t.Fatal(err)
	}
	step(1, 50, 20)
	v = waitFor(t, api, "step 1 judged, step 2 watched", func(v View) bool {
		return v.Steps != nil && len(v.Steps.Rows) == 1 && v.Steps.Current != nil && v.Steps.Current.Index == 1
	})
	if r := v.Steps.Rows[0]; r.Max != 20 || r.Verdict != change.StepPass || r.Throughput == nil || *r.Throughput != 30 || r.P95MS == nil || *r.P95MS != 12.5 {
		t.Errorf("step 1 row: %+v", r)
	}
	_, _, page := get(t, lf.srv.URL+"/runs/"+id)
	for _, want := range []string{`id="stairs"`, "Watching step 2: pool max 50 / min 20", `data-step="1"`, "30/s", "12.5 ms", "verdict-pass"} {
		if !strings.Contains(page, want) {
			t.Errorf("live page lacks %q", want)
		}
	}
	// Step 2 worse: the run settles at step 1; nothing is watched now.
	if err := lf.folder.Write(evidence.FileSteps, stepsJSON(t, true)); err != nil {
		t.Fatal(err)
	}
	v = waitFor(t, api, "settled", func(v View) bool { return v.Steps != nil && v.Steps.Outcome == "settled" })
	if v.Steps.Current != nil || len(v.Steps.Rows) != 2 || v.Steps.Settled == nil || *v.Steps.Settled != 0 {
		t.Errorf("settled steps: %+v", v.Steps)
	}
	_, _, page = get(t, lf.srv.URL+"/runs/"+id)
	for _, want := range []string{"Settled at step 1: step 2 (50:20) was worse", "verdict-worse", "320 ms"} {
		if !strings.Contains(page, want) {
			t.Errorf("settled page lacks %q", want)
		}
	}
	if strings.Contains(page, "Watching step") {
		t.Error("the settled page still says a step is watched")
	}
}

func TestFinishedRunShowsItsSteps(t *testing.T) {
	root := fixtureDir(t)
	dirs, _ := filepath.Glob(filepath.Join(root, "*", evidencetest.RunID))
	if len(dirs) != 1 {
		t.Fatalf("run folder of %s: %v", evidencetest.RunID, dirs)
	}
	if err := os.WriteFile(filepath.Join(dirs[0], evidence.FileSteps), stepsJSON(t, true), 0o644); err != nil {
		t.Fatal(err)
	}
	_, srv, _ := serveDir(t, root, Options{})
	_, _, body := get(t, srv.URL+"/api/runs/"+evidencetest.RunID)
	var v View
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.Steps == nil || len(v.Steps.Rows) != 2 || v.Steps.Rows[1].Verdict != change.StepWorse || v.Steps.Current != nil {
		t.Fatalf("finished run's steps: %v %+v", err, v.Steps)
	}
	_, _, page := get(t, srv.URL+"/runs/"+evidencetest.RunID)
	for _, want := range []string{`id="stairs"`, `data-step="2"`, "50:20", "29/s", "Settled at step 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("finished run page lacks %q", want)
		}
	}
	_, _, body = get(t, srv.URL+"/api/runs/"+succeededID)
	if strings.Contains(body, `"steps"`) {
		t.Error("a run without steps.json has steps in its view")
	}
}
