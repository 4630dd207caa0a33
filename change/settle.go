package change

import (
	"fmt"

	"github.com/poolpilot/poolpilot/plan"
)

// What a staircase change does after a step was judged.
const (
	ActionClimb    = "climb"    // go on to the next step
	ActionReached  = "reached"  // change.to held: the full soak runs there
	ActionSettle   = "settle"   // keep the best step seen (StepDecision.Settle)
	ActionRollback = "rollback" // the first step failed: back to change.from
)

// P95FloorMS is the least p95 rise, in milliseconds, that counts as worse
// whatever the relative margin: on a fast service a step from 3 ms to 4 ms
// is noise, not a regression (as the post-rollback monitoring's "within
// 20 % or 20 ms").
const P95FloorMS = 20

// p95Within reports whether p95 is within stop.P95Increase (or
// P95FloorMS) of ref.
func p95Within(p95, ref float64, stop plan.StopWhen) bool {
	return p95 <= ref*(1+stop.P95Increase) || p95-ref <= P95FloorMS
}

// StepDecision is DecideStep's answer.
type StepDecision struct {
	Action  string
	Settle  int    // for ActionSettle: the index of the step to keep
	Verdict string // of the last step: pass, worse or fail
	Why     string
}

// DecideStep judges the last of results (the steps so far, in order; total
// steps in the plan) and says what the run does next. A step fails when
// it did not hold (apply, verify, a trigger or a success criterion) or
// when its throughput or p95 was not measured (absent is never a pass).
// A step that held is worse than the one before when its p95 rose by more
// than stop.P95Increase or its throughput fell by more than
// stop.ThroughputDrop (a p95 rise of at most P95FloorMS is never worse).
// A failed first step rolls back; a failed or worse
// later step settles at the best step before it (bestStep).
func DecideStep(results []StepResult, total int, stop plan.StopWhen) StepDecision {
	n := len(results)
	last := results[n-1]
	verdict, why := StepPass, ""
	switch {
	case !last.Held:
		verdict, why = StepFail, last.Why
		if why == "" {
			why = "the step did not hold"
		}
	case last.Throughput == nil || last.P95MS == nil:
		verdict, why = StepFail, "no throughput or p95 was measured at this step: it cannot be compared (absent is never a pass)"
	case n > 1:
		verdict, why = worse(results[n-2], last, stop)
	}
	what := fmt.Sprintf("step %d (%d:%d)", n, last.Size.Max, last.Size.Min)
	switch {
	case verdict != StepPass && n == 1:
		return StepDecision{Action: ActionRollback, Verdict: verdict, Why: why}
	case verdict != StepPass:
		b := bestStep(results[:n-1], stop)
		return StepDecision{Action: ActionSettle, Settle: b, Verdict: verdict, Why: what + ": " + why}
	case n >= total:
		return StepDecision{Action: ActionReached, Verdict: verdict, Why: what + " is change.to and held"}
	}
	return StepDecision{Action: ActionClimb, Verdict: verdict, Why: what + " held"}
}

// worse compares a step that held with the one before it.
func worse(prev, cur StepResult, stop plan.StopWhen) (string, string) {
	if prev.P95MS != nil && *prev.P95MS > 0 && !p95Within(*cur.P95MS, *prev.P95MS, stop) {
		return StepWorse, fmt.Sprintf("p95 %.1f ms is %.0f %% above the previous step's %.1f ms (stop_when.p95_increase %.0f %%, and more than 20 ms)",
			*cur.P95MS, 100*(*cur.P95MS / *prev.P95MS - 1), *prev.P95MS, 100*stop.P95Increase)
	}
	if prev.Throughput != nil && *prev.Throughput > 0 && *cur.Throughput < *prev.Throughput*(1-stop.ThroughputDrop) {
		return StepWorse, fmt.Sprintf("throughput %.1f/s is %.0f %% below the previous step's %.1f/s (stop_when.throughput_drop %.0f %%)",
			*cur.Throughput, 100*(1 - *cur.Throughput / *prev.Throughput), *prev.Throughput, 100*stop.ThroughputDrop)
	}
	return StepPass, ""
}

// bestStep is the step to settle at among steps that held: the largest one
// whose throughput is within stop.ThroughputDrop of the best throughput
// seen and whose p95 is within stop.P95Increase (or P95FloorMS) of the
// best p95 seen
// (under an open-model load throughput is the offered rate, so p95 usually
// decides). When no step is within both margins, the one with the highest
// throughput (then the lower p95) wins.
func bestStep(steps []StepResult, stop plan.StopWhen) int {
	bestT, bestP := 0.0, -1.0
	for _, s := range steps {
		if s.Throughput != nil {
			bestT = max(bestT, *s.Throughput)
		}
		if s.P95MS != nil && (bestP < 0 || *s.P95MS < bestP) {
			bestP = *s.P95MS
		}
	}
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if s.Throughput != nil && s.P95MS != nil && *s.Throughput >= bestT*(1-stop.ThroughputDrop) && p95Within(*s.P95MS, bestP, stop) {
			return i
		}
	}
	best := 0
	for i, s := range steps {
		b := steps[best]
		if s.Throughput == nil || s.P95MS == nil {
			continue
		}
		if b.Throughput == nil || *s.Throughput > *b.Throughput || (*s.Throughput == *b.Throughput && *s.P95MS < *b.P95MS) {
			best = i
		}
	}
	return best
}
