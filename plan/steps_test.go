package plan

import (
	"strings"
	"testing"
	"time"
)

const seedChangeTo = "  to: {max: 200, min: 20}"

func TestStepsParseNumbersAndMappings(t *testing.T) {
	_, p, err := parseEdited(t, seedChangeTo, seedChangeTo+"\n  steps: [20, {max: 50, min: 5}, 100, {max: 200, min: 20}]")
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{{20, 20}, {50, 5}, {100, 20}, {200, 20}}
	if len(p.Change.Steps) != len(want) {
		t.Fatalf("steps %+v, want %+v", p.Change.Steps, want)
	}
	for i, s := range want {
		if p.Change.Steps[i] != s {
			t.Errorf("step %d = %+v, want %+v (an omitted min is change.to.min capped at the max)", i, p.Change.Steps[i], s)
		}
	}
	if got, want := p.StepSoak(), p.Soak.Duration.D()/10; got != want || p.Step.Soak.D() != want {
		t.Errorf("step soak %s (field %s), want a tenth of the soak %s", got, p.Step.Soak, want)
	}
	if p.Step.StopWhen.P95Increase != DefaultP95Increase || p.Step.StopWhen.ThroughputDrop != DefaultThroughputDrop {
		t.Errorf("stop_when defaults %+v", p.Step.StopWhen)
	}
	// The normalised plan parses back to the same plan.
	q, err := Parse(p.YAML())
	if err != nil {
		t.Fatalf("normalised plan: %v\n%s", err, p.YAML())
	}
	if q.SHA256() != p.SHA256() {
		t.Error("the normalised staircase plan does not read back the same")
	}
}

func TestStepsBlockStyleAndStepSection(t *testing.T) {
	_, p, err := parseEdited(t, seedChangeTo, seedChangeTo+"\n  steps:\n    - max: 100\n      min: 0\n    - 200\nstep:\n  soak: 2m\n  stop_when: {p95_increase: 0.5, throughput_drop: 0.1}")
	if err != nil {
		t.Fatal(err)
	}
	if p.Change.Steps[0] != (Step{100, 0}) || p.Step.Soak.D() != 2*time.Minute || p.Step.StopWhen.P95Increase != 0.5 || p.Step.StopWhen.ThroughputDrop != 0.1 {
		t.Errorf("got steps %+v step %+v", p.Change.Steps, p.Step)
	}
}

func TestPlanWithoutStepsIsUnchanged(t *testing.T) {
	p, err := Parse(seedPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Stepped() || p.Step != (StepPolicy{}) || strings.Contains(string(p.Normalised()), `"step`) {
		t.Errorf("a plan without steps gained step fields: %+v %s", p.Step, p.Normalised())
	}
}

func TestStepsRefused(t *testing.T) {
	cases := []struct {
		name, add, path, msg string
	}{
		{"not increasing", "  steps: [50, 20, 200]", "$.change.steps[1].max", "climb strictly"},
		{"equal to from", "  steps: [10, 200]", "$.change.steps[0].max", "larger than the step before"},
		{"last is not to", "  steps: [20, 100]", "$.change.steps[1]", "must be change.to"},
		{"min above max", "  steps: [{max: 20, min: 30}, 200]", "$.change.steps[0].min", "between 0 and the step's max"},
		{"too big", "  steps: [20000, 200]", "$.change.steps[0].max", "between 1 and"},
		{"not a number", "  steps: [twenty, 200]", "$.change.steps[0]", "whole number"},
		{"unknown step key", "  steps: [{max: 20, mn: 5}, 200]", "$.change.steps[0].mn", "unknown field"},
		{"auto without a report", "  steps: {auto: true}", "$.change.steps", "database.sizing_report names none"},
		{"auto false", "  steps: {auto: false}", "$.change.steps.auto", "is false"},
		{"auto with a list", "  steps: [{auto: true}, 200]", "$.change.steps[0].auto", "takes the place of the list"},
		{"auto with another key", "  steps: {auto: true, list: [20, 200]}", "$.change.steps.list", "unknown field"},
		{"a mapping", "  steps: {max: 20}", "$.change.steps", "must be a list of steps"},
		{"bad margin", "  steps: [20, 200]\nstep: {stop_when: {p95_increase: 200}}", "$.step.stop_when.p95_increase", "such as 0.2"},
		{"bad drop", "  steps: [20, 200]\nstep: {stop_when: {throughput_drop: 1.5}}", "$.step.stop_when.throughput_drop", "between 0 and 1"},
		{"zero soak", "  steps: [20, 200]\nstep: {soak: 0s}", "$.step.soak", "positive duration"},
		{"step without steps", "\nstep: {soak: 1m}", "$.step", "give change.steps"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseEdited(t, seedChangeTo, seedChangeTo+"\n"+tc.add)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), strings.TrimPrefix(tc.path, "$.")+":") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not name %s with %q", err, tc.path, tc.msg)
			}
		})
	}
}

func TestStepsNeedLoad(t *testing.T) {
	text := strings.Replace(string(seedPlan(t)), seedChangeTo, seedChangeTo+"\n  steps: [20, 200]", 1)
	p, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p.LoadTest.Workload = "none"
	c := &checker{}
	p.validateSteps(c)
	if len(c.errs) != 1 || c.errs[0].Path != "$.load_test.workload" || !strings.Contains(c.errs[0].Msg, "load test") {
		t.Errorf("errors %v, want one on $.load_test.workload", c.errs)
	}
}
