package dashboard

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
)

// StepsView is a staircase change's steps as the page shows them: the
// judged steps of steps.json and the step being watched now.
type StepsView struct {
	// Current is the step applied and not yet judged (live runs).
	Current *StepView  `json:"current,omitempty"`
	Rows    []StepView `json:"rows"`
	// Outcome is climbing, reached, settled or rolled-back.
	Outcome string `json:"outcome,omitempty"`
	// Settled is the index of the step the run settled at.
	Settled *int   `json:"settled_index,omitempty"`
	Why     string `json:"why,omitempty"`
}

// StepView is one step: its size, the client's figures under the plan's
// load and its verdict (pass, worse or fail).
type StepView struct {
	Index      int      `json:"index"` // 0-based
	Max        int      `json:"max"`
	Min        int      `json:"min"`
	Throughput *float64 `json:"throughput_rps,omitempty"`
	P95MS      *float64 `json:"p95_ms,omitempty"`
	Verdict    string   `json:"verdict,omitempty"`
	Why        string   `json:"why,omitempty"`
}

// Number is the step's 1-based number.
func (s StepView) Number() int { return s.Index + 1 }

// readSteps reads steps.json of the run folder dir; nil when there is none.
func readSteps(dir string) *StepsView {
	b, err := os.ReadFile(filepath.Join(dir, evidence.FileSteps))
	if err != nil {
		return nil
	}
	var ev change.StepsEvidence
	if json.Unmarshal(b, &ev) != nil {
		return nil
	}
	sv := &StepsView{Outcome: ev.Outcome, Settled: ev.Settled, Why: ev.Why, Rows: []StepView{}}
	for _, s := range ev.Steps {
		sv.Rows = append(sv.Rows, StepView{Index: s.Index, Max: s.Size.Max, Min: s.Size.Min, Throughput: s.Throughput,
			P95MS: s.P95MS, Verdict: s.Verdict, Why: s.Why})
	}
	return sv
}

// stepStartedLocked records the step a live run is watching now (r.mu
// held).
func (r *run) stepStartedLocked(l evidence.Line) bool {
	var d evidence.Step
	if json.Unmarshal(l.Data, &d) != nil || d.Phase != "start" {
		return false
	}
	if r.steps == nil {
		r.steps = &StepsView{Rows: []StepView{}}
	}
	r.steps.Current = &StepView{Index: d.Index, Max: d.Max, Min: d.Min}
	return true
}

// stepsWrittenLocked reloads steps.json once the controller rewrote it
// (r.mu held); the current step stays until it is judged.
func (r *run) stepsWrittenLocked() {
	sv := readSteps(r.dir)
	if sv == nil {
		return
	}
	if r.steps != nil && r.steps.Current != nil && r.steps.Current.Index >= len(sv.Rows) && sv.Outcome == "climbing" {
		sv.Current = r.steps.Current
	}
	r.steps = sv
}

// copySteps is a copy of sv for a View.
func copySteps(sv *StepsView) *StepsView {
	if sv == nil {
		return nil
	}
	c := *sv
	c.Rows = append([]StepView{}, sv.Rows...)
	if sv.Current != nil {
		cur := *sv.Current
		c.Current = &cur
	}
	return &c
}
