package change

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// StepsFile is the evidence file of a staircase change: each step's size,
// figures and verdict.
const StepsFile = evidence.FileSteps

// Journal record kind and reasons of a staircase change. A "step" record
// with reason "start" is written before a step's size is applied, one
// with reason "done" (Data: the StepResult) once it was judged, and one
// with reason "settle" (Max, Min: the size kept) when the run settles.
const (
	RecordStep       = "step"
	stepStartReason  = "start"
	stepDoneReason   = "done"
	stepSettleReason = "settle"
)

// Step verdicts.
const (
	StepPass  = "pass"  // every success criterion held, not worse than the step before
	StepWorse = "worse" // held, but worse than the step before by step.stop_when's margin
	StepFail  = "fail"  // apply, verify, a rollback trigger or a success criterion failed
)

// StepResult is what one step of a staircase change showed.
type StepResult struct {
	Index   int           `json:"index"` // 0-based
	Size    plan.PoolSize `json:"size"`
	Started time.Time     `json:"started"`
	Ended   time.Time     `json:"ended"`
	// Held: applied, verified, no rollback trigger fired and every success
	// criterion held for the step's soak (with the coverage rule).
	Held bool `json:"held"`
	// Throughput (requests per second answered without error) and P95MS
	// are the client's view under the plan's load: the step's load test.
	// Nil: not measured.
	Throughput *float64 `json:"throughput_rps"`
	P95MS      *float64 `json:"p95_ms"`
	Requests   int64    `json:"requests"`
	Source     string   `json:"source,omitempty"` // load_test
	// DB is the database's figures at the step's end (nil: not read).
	DB      *StepDB `json:"db,omitempty"`
	Verdict string  `json:"verdict"`
	Why     string  `json:"why,omitempty"`
}

// StepDB is the database's side of a step.
type StepDB struct {
	// Backends is the database's connections (pg_stat_activity).
	Backends   *int     `json:"backends,omitempty"`
	CPUPercent *float64 `json:"cpu_percent,omitempty"`
}

// StepPhase watches one applied and verified step: the load test if the
// plan has one, then the criteria for step.soak. It returns the step's
// figures with Held set, and the verdict that ended it early (a rollback
// trigger or a failed success criterion).
type StepPhase func(ctx context.Context, index int, size plan.PoolSize) (StepResult, Verdict, error)

// StepsEvidence is steps.json.
type StepsEvidence struct {
	Plan     string        `json:"plan"`
	From     plan.PoolSize `json:"from"`
	To       plan.PoolSize `json:"to"`
	Steps    []StepResult  `json:"steps"`
	Outcome  string        `json:"outcome,omitempty"` // climbing | reached | settled | rolled-back
	Settled  *int          `json:"settled_index,omitempty"`
	Final    plan.PoolSize `json:"final"`
	Why      string        `json:"why,omitempty"`
	StopWhen plan.StopWhen `json:"stop_when"`
}

// target is the size the run changes to: change.to, or the step it
// settled at.
func (c *Controller) target() plan.PoolSize {
	if s, ok := SettledSize(c.Journal.Records()); ok {
		return s
	}
	return c.Plan.Change.To
}

// SettledSize is the size a staircase run settled at, if it did.
func SettledSize(recs []Record) (plan.PoolSize, bool) {
	for _, r := range recs {
		if r.Kind == RecordStep && r.Reason == stepSettleReason {
			return plan.PoolSize{Max: r.Max, Min: r.Min}, true
		}
	}
	return plan.PoolSize{}, false
}

// StepResults reads the judged steps from journal records.
func StepResults(recs []Record) []StepResult {
	var out []StepResult
	for _, r := range recs {
		if r.Kind != RecordStep || r.Reason != stepDoneReason {
			continue
		}
		var s StepResult
		if json.Unmarshal(r.Data, &s) == nil {
			out = append(out, s)
		}
	}
	return out
}

// stepping climbs through change.steps from the first step not yet
// judged (a resumed run re-runs the step it was on: applies are
// idempotent). It returns soak once change.to held, applying to settle
// at the best step seen, or rolling-back when the first step failed.
func (c *Controller) stepping(ctx context.Context) (State, string, error) {
	steps := c.Plan.Change.Steps
	results := StepResults(c.Journal.Records())
	for i := len(results); i < len(steps); i++ {
		size := steps[i].Size()
		c.progress("step %d/%d: pool %d:%d", i+1, len(steps), size.Max, size.Min)
		if _, err := c.Journal.Append(Record{Kind: RecordStep, Reason: stepStartReason, Max: size.Max, Min: size.Min}, c.Clock.Now()); err != nil {
			return "", "", err
		}
		c.event(evidence.Step{Index: i, Max: size.Max, Min: size.Min, Phase: "start"})
		res, v, err := c.runStep(ctx, i, size)
		if lerr := leaving(ctx); lerr != nil {
			return "", "", lerr
		}
		if ctx.Err() != nil { // a manual rollback or Ctrl-C: back to from
			return StateRollingBack, fmt.Sprintf("step %d interrupted: %s", i+1, causeText(ctx)), nil
		}
		if err != nil {
			res.Held, res.Why = false, err.Error()
		}
		if v.Rollback {
			c.auditVerdict(ctx, v, fmt.Sprintf("step %d", i+1))
		}
		results = append(results, res)
		d := DecideStep(results, len(steps), c.Plan.Step.StopWhen)
		results[i].Verdict, results[i].Why = d.Verdict, d.Why
		if err := c.journalStep(results[i]); err != nil {
			return "", "", err
		}
		switch d.Action {
		case ActionClimb:
			c.writeSteps(results, "climbing", nil, d.Why)
			continue
		case ActionReached:
			c.writeSteps(results, "reached", nil, "")
			c.writePostChangeConfig(ctx)
			return StateSoak, "", nil
		case ActionRollback:
			c.writeSteps(results, "rolled-back", nil, d.Why)
			return StateRollingBack, fmt.Sprintf("step 1 (%d:%d) failed: %s", size.Max, size.Min, d.Why), nil
		}
		best := results[d.Settle].Size
		c.writeSteps(results, "settled", &d.Settle, d.Why)
		if _, err := c.Journal.Append(Record{Kind: RecordStep, Reason: stepSettleReason, Max: best.Max, Min: best.Min, Data: mustJSON(d.Why)}, c.Clock.Now()); err != nil {
			return "", "", err
		}
		c.event(evidence.StepSettle{Index: d.Settle, Max: best.Max, Min: best.Min, Why: d.Why})
		return StateApplying, fmt.Sprintf("settling at step %d (%d:%d): %s", d.Settle+1, best.Max, best.Min, d.Why), nil
	}
	return StateSoak, "", nil // every step judged before a crash: change.to held
}

// runStep applies and verifies one step, then watches it.
func (c *Controller) runStep(ctx context.Context, i int, size plan.PoolSize) (StepResult, Verdict, error) {
	res := StepResult{Index: i, Size: size, Started: c.Clock.Now().UTC()}
	if err := c.applyAll(ctx, size); err != nil {
		res.Ended = c.Clock.Now().UTC()
		return res, Verdict{}, fmt.Errorf("apply failed: %w", err)
	}
	if err := c.verifyAll(ctx, c.instances(), size); err != nil {
		res.Ended = c.Clock.Now().UTC()
		return res, Verdict{}, fmt.Errorf("verify failed: %w", err)
	}
	if c.Phases.Step == nil {
		res.Held, res.Ended = true, c.Clock.Now().UTC()
		return res, Verdict{}, nil
	}
	got, v, err := c.Phases.Step(ctx, i, size)
	got.Index, got.Size, got.Started = i, size, res.Started
	got.Ended = c.Clock.Now().UTC()
	if v.Rollback {
		got.Held = false
		if got.Why == "" {
			got.Why = fmt.Sprintf("%s: %s", v.Criterion, v.Reason)
		}
	}
	return got, v, err
}

func (c *Controller) journalStep(r StepResult) error {
	_, err := c.Journal.Append(Record{Kind: RecordStep, Reason: stepDoneReason, Max: r.Size.Max, Min: r.Size.Min, Data: mustJSON(r)}, c.Clock.Now())
	c.event(evidence.Step{Index: r.Index, Max: r.Size.Max, Min: r.Size.Min, Phase: "done", Verdict: r.Verdict, Why: r.Why})
	return err
}

// writeSteps writes steps.json.
func (c *Controller) writeSteps(results []StepResult, outcome string, settled *int, why string) {
	final := c.Plan.Change.To
	if settled != nil {
		final = results[*settled].Size
	}
	ev := StepsEvidence{Plan: c.Plan.Name, From: c.Plan.Change.From, To: c.Plan.Change.To, Steps: results,
		Outcome: outcome, Settled: settled, Final: final, Why: why, StopWhen: c.Plan.Step.StopWhen}
	if b, err := evidence.MarshalFile(ev); err == nil {
		c.writeFile(StepsFile, b)
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// settleWhy is why the run settled, from its settle record.
func settleWhy(recs []Record) string {
	for _, r := range recs {
		if r.Kind == RecordStep && r.Reason == stepSettleReason {
			var why string
			_ = json.Unmarshal(r.Data, &why)
			return why
		}
	}
	return ""
}
