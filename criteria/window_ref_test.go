package criteria

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
)

// refEngine is the engine's copy-based behaviour written plainly, as the
// reference of TestWindowsMatchReference: it keeps every sample ever
// observed in arrival order, and each evaluation builds each series'
// window afresh — a copy filtered to the retention and stably sorted by
// time (the order of the engine's sorted insert) — and applies the state
// machine of evalSeries' doc comment to it.
type refEngine struct {
	crit     []Criterion
	opts     Options
	start    time.Time
	arrived  map[seriesKey][]poolpilot.Sample
	fleet    map[string][]poolpilot.Sample
	baseline map[string]float64
	decision *Decision
}

type refTrack struct {
	state    State
	value    *float64
	since    time.Time
	held     time.Duration
	left     time.Duration
	evidence []poolpilot.Sample
}

func newRef(e *Engine) *refEngine {
	return &refEngine{crit: e.Criteria(), opts: e.Options(), start: e.Options().Clock.Now(),
		arrived: map[seriesKey][]poolpilot.Sample{}, fleet: map[string][]poolpilot.Sample{}, baseline: map[string]float64{}}
}

func (r *refEngine) observe(ss ...poolpilot.Sample) {
	for _, s := range ss {
		if !s.Gap && (math.IsNaN(s.Value) || math.IsInf(s.Value, 0)) {
			s.Gap, s.Value, s.Reason = true, 0, "value is not a finite number"
		}
		k := seriesKey{s.Metric, s.Instance}
		r.arrived[k] = append(r.arrived[k], s)
	}
}

// window is the samples of k not older than cut, oldest first; samples of
// the same time in arrival order.
func (r *refEngine) window(k seriesKey, cut time.Time) []poolpilot.Sample {
	var out []poolpilot.Sample
	for _, s := range r.arrived[k] {
		if !s.Time.Before(cut) {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// series is what Engine.Series returns right after an evaluation at now.
func (r *refEngine) series(now time.Time) []poolpilot.Series {
	var out []poolpilot.Series
	for k := range r.arrived {
		if w := r.window(k, now.Add(-r.opts.Retention)); len(w) > 0 {
			out = append(out, poolpilot.Series{Metric: k.metric, Instance: k.instance, Samples: w})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Metric != out[j].Metric {
			return out[i].Metric < out[j].Metric
		}
		return out[i].Instance < out[j].Instance
	})
	return out
}

func (r *refEngine) instances(metric string, cut time.Time) []string {
	var out []string
	for k := range r.arrived {
		if k.metric == metric && len(r.window(k, cut)) > 0 {
			out = append(out, k.instance)
		}
	}
	sort.Strings(out)
	return out
}

func (r *refEngine) inconclusive(c Criterion, ser []poolpilot.Sample, now time.Time) refTrack {
	t := refTrack{state: StateInconclusive, since: r.start}
	for i := len(ser) - 1; i >= 0; i-- {
		if !ser[i].Gap {
			t.since, t.evidence = ser[i].Time, ser[max(0, i-9):i+1]
			break
		}
	}
	if t.since.After(now) {
		t.since = now
	}
	t.held = now.Sub(t.since)
	maxInc := r.opts.MaxInconclusive
	if c.MaxInconclusive > 0 {
		maxInc = c.MaxInconclusive.D()
	}
	if maxInc > 0 && t.held >= maxInc {
		t.state = StateFiring
	}
	return t
}

func (r *refEngine) eval(c Criterion, ser []poolpilot.Sample, now time.Time, th float64) refTrack {
	n := len(ser)
	if n == 0 || ser[n-1].Gap || now.Sub(ser[n-1].Time) > r.opts.Stale {
		return r.inconclusive(c, ser, now)
	}
	v := ser[n-1].Value
	if !c.Breaches(v, th) {
		return refTrack{state: StateOK, value: &v}
	}
	j := n - 1
	for j > 0 && !ser[j-1].Gap && ser[j].Time.Sub(ser[j-1].Time) <= r.opts.Stale && c.Breaches(ser[j-1].Value, th) {
		j--
	}
	t := refTrack{state: StatePending, value: &v, since: ser[j].Time, held: ser[n-1].Time.Sub(ser[j].Time), evidence: ser[j:]}
	if t.held >= c.For.D() {
		t.state = StateFiring
	} else {
		t.left = c.For.D() - t.held
	}
	return t
}

func refWorse(a, b refTrack) bool {
	if a.state.rank() != b.state.rank() {
		return a.state.rank() > b.state.rank()
	}
	if a.state == StatePending {
		return a.left < b.left
	}
	return a.held > b.held
}

// refResult is the part of a Result the reference computes.
type refResult struct {
	Name, Instance string
	State          State
	Value          *float64
	Since          time.Time
	HeldS, LeftS   float64
	Instances      []InstanceState
}

func (r *refEngine) evaluate(now time.Time) ([]refResult, *Decision) {
	cut := now.Add(-r.opts.Retention)
	var out []refResult
	var tracks []refTrack
	for _, c := range r.crit {
		res := refResult{Name: c.Name}
		var t refTrack
		b, ok := r.baseline[c.Key()]
		th, err := c.Parsed.Threshold(b, ok)
		insts := r.instances(c.Key(), cut)
		switch {
		case err != nil:
			t = r.inconclusive(c, nil, now)
		case c.Scope == poolpilot.ScopeFleet:
			agg := poolpilot.Sample{Metric: c.Key(), Instance: "fleet:" + c.Aggregate, Time: now}
			var vals []float64
			missing := 0
			for _, in := range insts {
				w := r.window(seriesKey{c.Key(), in}, cut)
				is := InstanceState{Instance: in, State: StateInconclusive}
				if last := w[len(w)-1]; !last.Gap && now.Sub(last.Time) <= r.opts.Stale {
					v := last.Value
					is.State, is.Value = StateOK, &v
					vals = append(vals, v)
				} else {
					missing++
				}
				res.Instances = append(res.Instances, is)
			}
			switch {
			case len(insts) == 0:
				agg.Gap, agg.Reason = true, "no data for "+c.Key()
			case missing > 0:
				agg.Gap, agg.Reason = true, "no fresh data"
			default:
				agg.Value = aggregate(c.Aggregate, vals)
			}
			r.fleet[c.Name] = append(r.fleet[c.Name], agg)
			var w []poolpilot.Sample
			for _, s := range r.fleet[c.Name] {
				if !s.Time.Before(cut) {
					w = append(w, s)
				}
			}
			t = r.eval(c, w, now, th)
		case len(insts) == 0:
			t = r.inconclusive(c, nil, now)
		default:
			for i, in := range insts {
				it := r.eval(c, r.window(seriesKey{c.Key(), in}, cut), now, th)
				res.Instances = append(res.Instances, InstanceState{Instance: in, State: it.state, Value: it.value, HeldS: it.held.Seconds(), LeftS: it.left.Seconds()})
				if i == 0 || refWorse(it, t) {
					t, res.Instance = it, in
				}
			}
		}
		res.State, res.Value, res.Since, res.HeldS, res.LeftS = t.state, t.value, t.since, t.held.Seconds(), t.left.Seconds()
		out = append(out, res)
		tracks = append(tracks, t)
	}
	if r.decision == nil {
		pick := -1
		for i, c := range r.crit {
			if c.Role != poolpilot.RoleRollback || tracks[i].state != StateFiring {
				continue
			}
			if pick < 0 || (c.Class == poolpilot.ClassP0 && r.crit[pick].Class != poolpilot.ClassP0) {
				pick = i
			}
		}
		if pick >= 0 {
			ev := tracks[pick].evidence
			if len(ev) > r.opts.MaxEvidence {
				ev = ev[len(ev)-r.opts.MaxEvidence:]
			}
			r.decision = &Decision{Time: now, Criterion: r.crit[pick].Name, Instance: out[pick].Instance,
				HeldS: out[pick].HeldS, Evidence: append([]poolpilot.Sample(nil), ev...)}
		}
	}
	return out, r.decision
}

// TestWindowsMatchReference runs random observations (out of order, equal
// times, gaps, NaN, bursts, clock jumps past the retention) and random
// evaluations and baseline captures through the engine and through
// refEngine, and requires the same stored series, states, values, times,
// worst instances, decision and evidence at every step.
func TestWindowsMatchReference(t *testing.T) {
	seeds := 50
	if testing.Short() {
		seeds = 20
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkAgainstReference(t, uint64(seed)) })
	}
}

func checkAgainstReference(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 17))
	specs := []poolpilot.CriterionSpec{
		trigger("err-inst", "error_rate > 0.01", poolpilot.ClassP1, 3*time.Second),
		{Name: "lat-p0", Expr: "latency_p95_ms > 1000", Role: poolpilot.RoleRollback, Class: poolpilot.ClassP0,
			For: poolpilot.Duration(5 * time.Second), MaxInconclusive: poolpilot.Duration(6 * time.Second)},
		{Name: "err-ok", Expr: "error_rate < 0.01", Role: poolpilot.RoleSuccess},
		{Name: "lat-fleet", Expr: "latency_p95_ms > 800", Role: poolpilot.RoleRollback, Class: poolpilot.ClassP1,
			Scope: poolpilot.ScopeFleet, Aggregate: AggAvg, For: poolpilot.Duration(4 * time.Second)},
		{Name: "err-fleet", Expr: "error_rate < 0.05", Role: poolpilot.RoleSuccess, Scope: poolpilot.ScopeFleet, Aggregate: AggSum},
		trigger("lat-rel", "latency_p95_ms > baseline * 1.5", poolpilot.ClassP1, 2*time.Second),
	}
	clk := newClock()
	e, err := New(specs, Options{Clock: clk, Interval: time.Second, MaxInconclusive: 8 * time.Second,
		Retention: 20 * time.Second, MaxEvidence: 4, SuccessWindow: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ref := newRef(e)
	metrics := []string{"error_rate", "latency_p95_ms"}
	values := map[string][]float64{
		"error_rate":     {0, 0.005, 0.02, 0.04, math.NaN(), math.Inf(1)},
		"latency_p95_ms": {100, 700, 900, 1200, 3000, math.NaN()},
	}
	sample := func(metric, inst string, at time.Time) poolpilot.Sample {
		s := poolpilot.Sample{Metric: metric, Instance: inst, Time: at}
		if rng.IntN(10) == 0 {
			s.Gap, s.Reason = true, "poll failed"
		} else {
			vs := values[metric]
			s.Value = vs[rng.IntN(len(vs))]
		}
		return s
	}
	var lastCut time.Time
	for step := range 300 {
		switch x := rng.IntN(100); {
		case x < 4:
			clk.Advance(time.Duration(15+rng.IntN(20)) * time.Second)
		case x < 60:
			clk.Advance(time.Second)
		case x < 75:
			clk.Advance(time.Duration(rng.IntN(4)) * 500 * time.Millisecond)
		}
		now := clk.Now()
		var batch []poolpilot.Sample
		for range rng.IntN(6) {
			// Half-second steps from 2 s ahead to 8 s back: out of order,
			// equal times, older than the retention after a jump.
			at := now.Add(time.Duration(4-rng.IntN(20)) * 500 * time.Millisecond)
			batch = append(batch, sample(metrics[rng.IntN(2)], string(rune('a'+rng.IntN(3))), at))
		}
		if rng.IntN(30) == 0 { // a burst into one series: buffers grow and move
			m, in := metrics[rng.IntN(2)], string(rune('a'+rng.IntN(3)))
			for i := range 10 + rng.IntN(40) {
				batch = append(batch, sample(m, in, now.Add(-time.Duration(i%7)*time.Second)))
			}
		}
		e.Observe(batch...)
		ref.observe(batch...)
		where := fmt.Sprintf("seed %d step %d (t=%s)", seed, step, now.Sub(ref.start))

		// Between evaluations the engine may already have dropped samples
		// older than the retention; it keeps every newer one and none that
		// the last evaluation pruned.
		newer := now.Add(-e.Options().Retention)
		for _, s := range e.Series() {
			var kept []poolpilot.Sample
			for _, x := range s.Samples {
				if x.Time.Before(lastCut) {
					t.Fatalf("%s: %s/%s keeps a sample of %s, older than the last evaluation's cut %s", where, s.Metric, s.Instance, x.Time, lastCut)
				}
				if !x.Time.Before(newer) {
					kept = append(kept, x)
				}
			}
			if want := ref.window(seriesKey{s.Metric, s.Instance}, newer); !reflect.DeepEqual(kept, want) && len(want)+len(kept) > 0 {
				t.Fatalf("%s: %s/%s stored\n%v\nwant\n%v", where, s.Metric, s.Instance, kept, want)
			}
		}

		if rng.IntN(40) == 0 {
			win := time.Duration(1+rng.IntN(20)) * time.Second
			got, gerr := e.CaptureBaseline(win)
			sum, n := 0.0, 0
			for k := range ref.arrived {
				if k.metric != "latency_p95_ms" {
					continue
				}
				for _, s := range ref.window(k, now.Add(-win)) {
					if !s.Gap && !s.Time.After(now) {
						sum += s.Value
						n++
					}
				}
			}
			if (gerr != nil) != (n == 0) {
				t.Fatalf("%s: baseline over %s: error %v with %d samples", where, win, gerr, n)
			}
			if n > 0 {
				ref.baseline["latency_p95_ms"] = sum / float64(n)
				if b := got["latency_p95_ms"]; math.Abs(b-sum/float64(n)) > 1e-9*math.Abs(b) {
					t.Fatalf("%s: baseline %g, want %g", where, b, sum/float64(n))
				}
				// The map order of the sum may differ in the last bits.
				e.SetBaseline("latency_p95_ms", ref.baseline["latency_p95_ms"])
			}
		}

		if rng.IntN(100) >= 80 {
			continue
		}
		ev := e.Evaluate()
		lastCut = now.Add(-e.Options().Retention)
		want, wantDec := ref.evaluate(now)
		if got, w := e.Series(), ref.series(now); !reflect.DeepEqual(got, w) && len(got)+len(w) > 0 {
			t.Fatalf("%s: series after evaluation\n%v\nwant\n%v", where, got, w)
		}
		for i, w := range want {
			g := ev.Results[i]
			got := refResult{Name: g.Name, Instance: g.Instance, State: g.State, Value: g.Value, Since: g.Since, HeldS: g.HeldS, LeftS: g.LeftS}
			for _, is := range g.Instances {
				is.Reason = ""
				got.Instances = append(got.Instances, is)
			}
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("%s: %s\n got %s\nwant %s", where, w.Name, show(got), show(w))
			}
		}
		switch d := ev.Decision; {
		case (d == nil) != (wantDec == nil):
			t.Fatalf("%s: decision %v, want %v", where, d, wantDec)
		case d != nil:
			got := Decision{Time: d.Time, Criterion: d.Criterion, Instance: d.Instance, HeldS: d.HeldS, Evidence: d.Evidence}
			if !reflect.DeepEqual(got, *wantDec) {
				t.Fatalf("%s: decision\n%+v\nwant\n%+v", where, got, *wantDec)
			}
		}
	}
}

func show(r refResult) string {
	s := fmt.Sprintf("%s %s since %s held %g left %g", r.State, r.Instance, r.Since.Format("15:04:05.000"), r.HeldS, r.LeftS)
	if r.Value != nil {
		s += fmt.Sprintf(" value %g", *r.Value)
	}
	for _, is := range r.Instances {
		s += fmt.Sprintf("\n  %s %s held %g left %g", is.Instance, is.State, is.HeldS, is.LeftS)
		if is.Value != nil {
			s += fmt.Sprintf(" value %g", *is.Value)
		}
	}
	return s
}
