package plan

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/poolpilot/poolpilot"
)

// Defaults of a staircase change (change.steps).
const (
	// DefaultStepSoakShare: a step is watched for a tenth of soak.duration.
	DefaultStepSoakShare = 10
	// DefaultP95Increase: a step whose p95 is more than 20 % above the
	// previous step's stops the climb.
	DefaultP95Increase = 0.20
	// DefaultThroughputDrop: a step whose throughput is more than 5 %
	// below the previous step's stops the climb.
	DefaultThroughputDrop = 0.05
)

// Step is one stair of a staircase change: a pool max with an optional
// min (YAML: 50, or {max: 50, min: 5}); an omitted min is change.to.min,
// capped at the step's max.
type Step struct {
	Max int `yaml:"max" json:"max"`
	Min int `yaml:"min,omitempty" json:"min"`
}

// Size is the step as a pool size.
func (s Step) Size() PoolSize { return PoolSize(s) }

// UnmarshalYAML reads a step given as a number (its max) or as a mapping.
func (s *Step) UnmarshalYAML(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] != '{' && !bytes.Contains(t, []byte(":")) {
		n, err := strconv.Atoi(string(t))
		if err != nil {
			return fmt.Errorf("a step is a whole number (its max) or {max: N, min: M}, not %q", t)
		}
		*s = Step{Max: n}
		return nil
	}
	type plain Step
	var p plain
	// Not strict: the plan's walker reports unknown keys with their line.
	if err := yaml.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = Step(p)
	return nil
}

// StepPolicy tunes a staircase change: how long each step is watched and
// when a step counts as worse than the one before.
type StepPolicy struct {
	// Soak is how long each step's criteria are watched (watched time);
	// default a tenth of soak.duration.
	Soak poolpilot.Duration `yaml:"soak,omitempty" json:"soak"`
	// StopWhen says when a step is worse than the previous one: the run
	// stops climbing and settles at the best step seen.
	StopWhen StopWhen `yaml:"stop_when,omitempty" json:"stop_when"`
}

// StopWhen holds the margins by which a step is worse than the previous
// one, as fractions (0.2 is 20 %).
type StopWhen struct {
	// P95Increase: the step's p95 latency is more than this fraction above
	// the previous step's (default 0.2).
	P95Increase float64 `yaml:"p95_increase,omitempty" json:"p95_increase"`
	// ThroughputDrop: the step's throughput is more than this fraction
	// below the previous step's (default 0.05).
	ThroughputDrop float64 `yaml:"throughput_drop,omitempty" json:"throughput_drop"`
}

// Stepped reports whether the plan is a staircase change.
func (p *Plan) Stepped() bool { return len(p.Change.Steps) > 0 }

// StepSoak is how long each step is watched: step.soak, or a tenth of
// soak.duration (at least a second).
func (p *Plan) StepSoak() time.Duration {
	if d := p.Step.Soak.D(); d > 0 {
		return d
	}
	return max(time.Second, p.Soak.Duration.D()/DefaultStepSoakShare)
}

// applyStepDefaults fills an omitted step min and the step section, for a
// staircase plan only (a plan without steps keeps its step section empty).
func (p *Plan) applyStepDefaults(src *source) {
	if !p.Stepped() {
		return
	}
	for i := range p.Change.Steps {
		s := &p.Change.Steps[i]
		if !src.has(fmt.Sprintf("$.change.steps[%d].min", i)) {
			s.Min = min(p.Change.To.Min, s.Max)
		}
	}
	if p.Step.Soak == 0 && !src.has("$.step.soak") {
		p.Step.Soak = poolpilot.Duration(p.StepSoak())
	}
	if p.Step.StopWhen.P95Increase == 0 && !src.has("$.step.stop_when.p95_increase") {
		p.Step.StopWhen.P95Increase = DefaultP95Increase
	}
	if p.Step.StopWhen.ThroughputDrop == 0 && !src.has("$.step.stop_when.throughput_drop") {
		p.Step.StopWhen.ThroughputDrop = DefaultThroughputDrop
	}
}

// validateSteps checks change.steps and the step section.
func (p *Plan) validateSteps(c *checker) {
	if !p.Stepped() {
		if p.Step != (StepPolicy{}) && p.auto == nil { // a failed auto is reported already
			c.add("$.step", "is for a staircase change: give change.steps, or remove it")
		}
		return
	}
	if p.Change.To.Max <= p.Change.From.Max {
		c.add("$.change.steps", "climb toward a larger pool: change.to.max (%d) must exceed change.from.max (%d)", p.Change.To.Max, p.Change.From.Max)
	}
	prev := p.Change.From.Max
	for i, s := range p.Change.Steps {
		path := fmt.Sprintf("$.change.steps[%d]", i)
		switch {
		case s.Max < 1 || s.Max > MaxPoolSize:
			c.add(path+".max", "must be between 1 and %d (got %d)", MaxPoolSize, s.Max)
		case s.Max <= prev:
			c.add(path+".max", "must be larger than the step before it (%d): steps climb strictly (got %d)", prev, s.Max)
		}
		if s.Min < 0 || s.Min > s.Max {
			c.add(path+".min", "must be between 0 and the step's max %d (got %d)", s.Max, s.Min)
		}
		prev = max(prev, s.Max)
	}
	last := p.Change.Steps[len(p.Change.Steps)-1]
	if last.Size() != p.Change.To {
		c.add(fmt.Sprintf("$.change.steps[%d]", len(p.Change.Steps)-1), "the last step (%d:%d) must be change.to (%d:%d)", last.Max, last.Min, p.Change.To.Max, p.Change.To.Min)
	}
	if p.LoadTest.Workload == "none" {
		c.add("$.load_test.workload", "is none, but a staircase compares its steps under the plan's load test: give ledger, http or select1 (no load, no throughput or p95 to compare)")
	}
	if p.Step.Soak.D() <= 0 {
		c.add("$.step.soak", "must be a positive duration such as 5m (got %s); leave it out for a tenth of soak.duration", p.Step.Soak)
	}
	sw := p.Step.StopWhen
	if !(sw.P95Increase > 0 && sw.P95Increase <= 100) {
		c.add("$.step.stop_when.p95_increase", "must be a fraction above 0 and at most 100, such as 0.2 for 20 %% (got %g)", sw.P95Increase)
	}
	if !(sw.ThroughputDrop > 0 && sw.ThroughputDrop < 1) {
		c.add("$.step.stop_when.throughput_drop", "must be a fraction between 0 and 1, such as 0.05 for 5 %% (got %g)", sw.ThroughputDrop)
	}
}
