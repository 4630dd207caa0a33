package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrEventShape marks an event whose data is not its type's shape in the
// log's audit schema (a schema 2 state_change with state instead of to).
var ErrEventShape = errors.New("not the event's shape")

// ProblemEventShape is the Problem of a schema 2 log holding an event in
// an old shape.
const ProblemEventShape = "event_shape"

// Decoder reads the data of audit events in the shapes of their log's
// audit schema. The zero Decoder reads AuditSchema logs: one shape per
// event, unknown fields refused for the events that had synonyms.
type Decoder struct {
	// Legacy reads a schema 1 log: the old synonyms are accepted.
	Legacy bool
}

// NewDecoder is the decoder of a log, by the schema its run_opened records
// (the first line; absent or 1: Legacy).
func NewDecoder(lines []Line) Decoder {
	for _, l := range lines {
		if l.Event != EventRunOpened {
			continue
		}
		var ro RunOpened
		_ = json.Unmarshal(l.Data, &ro)
		return Decoder{Legacy: ro.Schema < 2}
	}
	return Decoder{}
}

// legacyStateChange is state_change as schema 1 wrote it: state alone
// (the controller's first form) or from/to.
type legacyStateChange struct {
	From   string `json:"from"`
	To     string `json:"to"`
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// legacyApply is apply as schema 1 wrote it: max/min for to_max/to_min.
type legacyApply struct {
	Apply
	Max int `json:"max"`
	Min int `json:"min"`
}

// legacyCriterionFired is criterion_fired with criterion for name.
type legacyCriterionFired struct {
	CriterionFired
	Criterion string `json:"criterion"`
}

// StateChange decodes a state_change.
func (d Decoder) StateChange(l Line) (StateChange, error) {
	if !d.Legacy {
		var sc StateChange
		if err := strict(l, &sc); err != nil {
			return sc, err
		}
		if sc.To == "" {
			return sc, fmt.Errorf("line %d: state_change without to: %w", l.Seq, ErrEventShape)
		}
		return sc, nil
	}
	var o legacyStateChange
	if err := json.Unmarshal(l.Data, &o); err != nil {
		return StateChange{}, fmt.Errorf("line %d: %s: %w", l.Seq, l.Event, err)
	}
	if o.To == "" {
		o.To = o.State
	}
	return StateChange{From: o.From, To: o.To, Reason: o.Reason}, nil
}

// Apply decodes an apply.
func (d Decoder) Apply(l Line) (Apply, error) {
	if !d.Legacy {
		var a Apply
		return a, strict(l, &a)
	}
	var o legacyApply
	if err := json.Unmarshal(l.Data, &o); err != nil {
		return Apply{}, fmt.Errorf("line %d: %s: %w", l.Seq, l.Event, err)
	}
	if o.ToMax == 0 && o.ToMin == 0 {
		o.ToMax, o.ToMin = o.Max, o.Min
	}
	return o.Apply, nil
}

// CriterionFired decodes a criterion_fired.
func (d Decoder) CriterionFired(l Line) (CriterionFired, error) {
	if !d.Legacy {
		var c CriterionFired
		return c, strict(l, &c)
	}
	var o legacyCriterionFired
	if err := json.Unmarshal(l.Data, &o); err != nil {
		return CriterionFired{}, fmt.Errorf("line %d: %s: %w", l.Seq, l.Event, err)
	}
	if o.Name == "" {
		o.Name = o.Criterion
	}
	return o.CriterionFired, nil
}

// strict decodes l's data into v, refusing fields v does not have.
func strict(l Line, v any) error {
	dec := json.NewDecoder(bytes.NewReader(l.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("line %d: %s: %v: %w", l.Seq, l.Event, err, ErrEventShape)
	}
	return nil
}

// Check decodes the events that had old shapes and returns the first
// problem: nil for a Legacy log, which may hold them.
func (d Decoder) Check(l Line) error {
	var err error
	switch l.Event {
	case EventStateChange:
		_, err = d.StateChange(l)
	case EventApply:
		_, err = d.Apply(l)
	case EventCriterionFired:
		_, err = d.CriterionFired(l)
	}
	return err
}

// checkShapes finds the events of a schema 2 log in an old shape.
func checkShapes(lines []RawLine) []Problem {
	var good []Line
	for _, rl := range lines {
		if rl.Err == nil {
			good = append(good, rl.Line)
		}
	}
	d := NewDecoder(good)
	var probs []Problem
	for _, rl := range lines {
		if rl.Err != nil {
			continue
		}
		if err := d.Check(rl.Line); err != nil {
			probs = append(probs, Problem{Kind: ProblemEventShape, Line: rl.N, File: FileAudit,
				Message: err.Error() + " (an old shape in a schema 2 log)"})
		}
	}
	return probs
}
