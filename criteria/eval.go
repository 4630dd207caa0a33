package criteria

import (
	"fmt"
	"sort"
	"time"

	"github.com/poolpilot/poolpilot"
)

// track is the state of one criterion on one series.
type track struct {
	state    State
	value    *float64
	since    time.Time
	held     time.Duration
	left     time.Duration
	reason   string
	evidence []poolpilot.Sample
}

// evalSeries applies the state machine to one series (oldest first) at now:
//
//   - no sample, a newest sample that is a gap, or a newest sample older
//     than stale: inconclusive since the last good sample (or the engine
//     start); firing once that lasted maxInc (maxInc > 0);
//   - newest value not breaching: ok;
//   - breaching: the breach began at the oldest sample of the unbroken run
//     of breaching samples ending at the newest one — a gap sample, a
//     spacing above stale or a non-breaching sample ends the run, so a gap
//     or a recovery resets it; held = newest − run start; firing when
//     held ≥ For, pending otherwise.
func (e *Engine) evalSeries(c Criterion, ser []poolpilot.Sample, now time.Time, th float64) track {
	stale := e.opts.Stale
	if len(ser) == 0 {
		return e.inconclusive(c, ser, now, "no data")
	}
	last := ser[len(ser)-1]
	if last.Gap {
		reason := "data gap"
		if last.Reason != "" {
			reason += ": " + last.Reason
		}
		return e.inconclusive(c, ser, now, reason)
	}
	if age := now.Sub(last.Time); age > stale {
		return e.inconclusive(c, ser, now, fmt.Sprintf("stale: newest sample is %s old (limit %s)", age.Round(time.Millisecond), stale))
	}
	v := last.Value
	t := track{value: &v}
	if !c.Breaches(v, th) {
		t.state = StateOK
		return t
	}
	first := len(ser) - 1
	for i := len(ser) - 2; i >= 0; i-- {
		p := ser[i]
		if p.Gap || ser[i+1].Time.Sub(p.Time) > stale || !c.Breaches(p.Value, th) {
			break
		}
		first = i
	}
	t.since = ser[first].Time
	t.held = last.Time.Sub(t.since)
	t.evidence = ser[first:]
	if t.held >= c.For.D() {
		t.state = StateFiring
		t.reason = fmt.Sprintf("%s %s %s held %s (for %s)", c.Parsed.Metric, Human(c.Parsed.Metric, v), breachWord(c), HumanDuration(t.held), c.For.D())
	} else {
		t.state = StatePending
		t.left = c.For.D() - t.held
		t.reason = fmt.Sprintf("%s %s %s for %s, fires in %s", c.Parsed.Metric, Human(c.Parsed.Metric, v), breachWord(c), HumanDuration(t.held), HumanDuration(t.left))
	}
	return t
}

func breachWord(c Criterion) string {
	if c.Role == poolpilot.RoleSuccess {
		return "violates " + c.Parsed.String()
	}
	return "meets " + c.Parsed.String()
}

func (e *Engine) inconclusive(c Criterion, ser []poolpilot.Sample, now time.Time, reason string) track {
	t := track{state: StateInconclusive, since: e.start, reason: reason}
	for i := len(ser) - 1; i >= 0; i-- {
		if !ser[i].Gap {
			t.since = ser[i].Time
			t.evidence = ser[max(0, i-9) : i+1]
			break
		}
	}
	if t.since.After(now) {
		t.since = now
	}
	t.held = now.Sub(t.since)
	maxInc := e.opts.MaxInconclusive
	if c.MaxInconclusive > 0 {
		maxInc = c.MaxInconclusive.D()
	}
	if maxInc > 0 && t.held >= maxInc {
		t.state = StateFiring
		t.reason = fmt.Sprintf("inconclusive for %s (max_inconclusive %s): %s", HumanDuration(t.held), maxInc, reason)
	}
	return t
}

func (e *Engine) newResult(c Criterion) Result {
	return Result{
		Name: c.Name, Description: c.Description, Role: c.Role, Class: c.Class, Scope: c.Scope, Aggregate: c.Aggregate,
		Expr: c.Parsed.String(), ForS: c.For.D().Seconds(),
	}
}

func (e *Engine) threshold(c Criterion) (float64, error) {
	b, ok := e.baseline[c.Key()]
	return c.Parsed.Threshold(b, ok)
}

func (e *Engine) instancesOf(metric string) []string {
	var out []string
	for k := range e.series {
		if k.metric == metric {
			out = append(out, k.instance)
		}
	}
	sort.Strings(out)
	return out
}

func (e *Engine) evalInstances(c Criterion, now time.Time) Result {
	r := e.newResult(c)
	th, err := e.threshold(c)
	if err != nil {
		r.apply(e.inconclusive(c, nil, now, err.Error()), now)
		return r
	}
	r.Threshold = &th
	insts := e.instancesOf(c.Key())
	if len(insts) == 0 {
		r.apply(e.inconclusive(c, nil, now, "no data for "+c.Key()), now)
		return r
	}
	r.Instances = make([]InstanceState, 0, len(insts))
	var worst track
	worstInst := ""
	for i, inst := range insts {
		t := e.evalSeries(c, e.series[seriesKey{c.Key(), inst}].samples(), now, th)
		r.Instances = append(r.Instances, InstanceState{
			Instance: inst, State: t.state, Value: t.value, HeldS: t.held.Seconds(), LeftS: t.left.Seconds(), Reason: t.reason,
		})
		if i == 0 || worse(t, worst) {
			worst, worstInst = t, inst
		}
	}
	r.apply(worst, now)
	r.Instance = worstInst
	return r
}

// worse reports whether a is worse than b: a higher state, or in the same
// state nearer to firing (pending), longer held (firing, inconclusive).
func worse(a, b track) bool {
	if a.state.rank() != b.state.rank() {
		return a.state.rank() > b.state.rank()
	}
	if a.state == StatePending {
		return a.left < b.left
	}
	return a.held > b.held
}

func (r *Result) apply(t track, now time.Time) {
	r.State, r.Value, r.Since, r.Reason, r.evidence = t.state, t.value, t.since, t.reason, t.evidence
	r.HeldS, r.LeftS = t.held.Seconds(), t.left.Seconds()
}

// evalFleet aggregates the newest sample of every instance into one value
// per evaluation, stored as the criterion's own series, and applies the
// state machine to that series. Any instance without a fresh sample makes
// the aggregate a gap: a partial sum or average would mislead.
func (e *Engine) evalFleet(c Criterion, now time.Time) Result {
	r := e.newResult(c)
	th, err := e.threshold(c)
	if err != nil {
		r.apply(e.inconclusive(c, nil, now, err.Error()), now)
		return r
	}
	r.Threshold = &th
	agg := poolpilot.Sample{Metric: c.Key(), Instance: "fleet:" + c.Aggregate, Time: now}
	var vals []float64
	var missing []string
	insts := e.instancesOf(c.Key())
	if len(insts) > 0 {
		r.Instances = make([]InstanceState, 0, len(insts))
	}
	for _, inst := range insts {
		is := InstanceState{Instance: inst, State: StateInconclusive}
		if last, ok := e.series[seriesKey{c.Key(), inst}].last(); ok && !last.Gap && now.Sub(last.Time) <= e.opts.Stale {
			v := last.Value
			is.State, is.Value = StateOK, &v
			vals = append(vals, v)
		} else {
			missing = append(missing, inst)
		}
		r.Instances = append(r.Instances, is)
	}
	switch {
	case len(insts) == 0:
		agg.Gap, agg.Reason = true, "no data for "+c.Key()
	case len(missing) > 0:
		agg.Gap, agg.Reason = true, fmt.Sprintf("no fresh data from %v", missing)
	default:
		agg.Value = aggregate(c.Aggregate, vals)
	}
	w := e.fleet[c.Name]
	if w == nil {
		w = &window{}
		e.fleet[c.Name] = w
	}
	k := e.keep()
	k.cut = func() time.Time { return now.Add(-e.opts.Retention) } // the cut this evaluation pruned to
	w.push(agg, k)
	r.apply(e.evalSeries(c, w.samples(), now, th), now)
	return r
}

func aggregate(fn string, vals []float64) float64 {
	out := vals[0]
	sum := 0.0
	for _, v := range vals {
		sum += v
		switch fn {
		case AggMax:
			out = max(out, v)
		case AggMin:
			out = min(out, v)
		}
	}
	switch fn {
	case AggSum:
		return sum
	case AggAvg:
		return sum / float64(len(vals))
	}
	return out
}
