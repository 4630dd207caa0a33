package runner

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
)

// DefaultMinCoverage is evaluation.min_coverage when a plan leaves it out.
const DefaultMinCoverage = 0.9

// watchedTime accounts for a watched phase (the soak): the time during which
// evaluations happened, the gaps without one, and how long each success
// criterion was conclusive. Watched time is what a soak's duration counts:
// a controller that was frozen (SIGSTOP), stopped or starved watched
// nothing, so a gap longer than three evaluation intervals is not watched
// time — the soak is extended by it, and a gap longer than max_inconclusive
// fails it.
type watchedTime struct {
	interval, maxGap time.Duration

	prev       time.Time
	watched    time.Duration
	gaps       []evidence.WatchGap
	conclusive map[string]time.Duration
	last       map[string]criteria.State
}

func newWatchedTime(interval, maxInconclusive time.Duration) *watchedTime {
	return &watchedTime{interval: interval, maxGap: maxInconclusive, conclusive: map[string]time.Duration{}, last: map[string]criteria.State{}}
}

// tick accounts for an evaluation at t; it returns a failure when the time
// since the previous evaluation was a gap longer than max_inconclusive.
func (w *watchedTime) tick(ev criteria.Evaluation) (failed bool, why string) {
	t := ev.Time
	var dt time.Duration
	if !w.prev.IsZero() {
		dt = t.Sub(w.prev)
	}
	w.prev = t
	if dt > 3*w.interval {
		w.gaps = append(w.gaps, evidence.WatchGap{From: t.Add(-dt).UTC(), To: t.UTC(), Seconds: dt.Seconds()})
		if w.maxGap > 0 && dt > w.maxGap {
			return true, fmt.Sprintf("no evaluation for %s (%s to %s): the controller was frozen or starved, nothing was watched, longer than max_inconclusive %s",
				criteria.HumanDuration(dt), t.Add(-dt).UTC().Format("15:04:05"), t.UTC().Format("15:04:05"), w.maxGap)
		}
		dt = 0 // not watched: the soak runs that much longer
	}
	w.watched += dt
	for _, res := range ev.Results {
		if res.Role != poolpilot.RoleSuccess {
			continue
		}
		w.last[res.Name] = res.State
		if conclusive(res) {
			w.conclusive[res.Name] += dt
		} else if _, ok := w.conclusive[res.Name]; !ok {
			w.conclusive[res.Name] = 0
		}
	}
	return false, ""
}

// conclusive reports whether a result rests on data: ok, pending, or
// firing on a breach — not inconclusive, nor firing for having been
// inconclusive too long.
func conclusive(res criteria.Result) bool {
	if res.State == criteria.StateInconclusive {
		return false
	}
	return !(res.State == criteria.StateFiring && strings.HasPrefix(res.Reason, "inconclusive"))
}

// coverage returns each success criterion's conclusive share of watched,
// by name.
func (w *watchedTime) coverage(earlier map[string]time.Duration, earlierWatched time.Duration) []evidence.CriterionCoverage {
	total := w.watched + earlierWatched
	var out []evidence.CriterionCoverage
	for name, d := range w.conclusive {
		c := evidence.CriterionCoverage{Name: name, ConclusiveSeconds: (d + earlier[name]).Seconds(), WatchedSeconds: total.Seconds(), LastState: string(w.last[name])}
		if total > 0 {
			c.Ratio = c.ConclusiveSeconds / total.Seconds()
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// endVerdict applies the end-of-soak rule: every success criterion ok at
// its last evaluation, every instance answered its last probe, and every
// success criterion conclusive for at least minCoverage of the watched
// time. The first rule broken makes a rollback verdict.
func endVerdict(last *criteria.Evaluation, unanswered []string, cov []evidence.CriterionCoverage, minCoverage float64) change.Verdict {
	if last == nil {
		return change.Verdict{Rollback: true, Role: poolpilot.RoleSuccess, Reason: "no evaluation happened during the soak"}
	}
	for _, res := range last.Results {
		if res.Role == poolpilot.RoleSuccess && res.State != criteria.StateOK {
			return change.Verdict{Rollback: true, Criterion: res.Name, Role: poolpilot.RoleSuccess,
				Reason: fmt.Sprintf("success criterion %s was %s at the soak's last evaluation (%s)", res.Name, res.State, res.Reason)}
		}
	}
	if len(unanswered) > 0 {
		return change.Verdict{Rollback: true, Criterion: poolpilot.MetricReachable, Role: poolpilot.RoleSuccess,
			Reason: "instance(s) did not answer the soak's last probe: " + strings.Join(unanswered, "; ")}
	}
	for _, c := range cov {
		if c.Ratio < minCoverage {
			return change.Verdict{Rollback: true, Criterion: c.Name, Role: poolpilot.RoleSuccess,
				Reason: fmt.Sprintf("success criterion %s was conclusive for %s of %s watched (%s, below min_coverage %s): its success was not observed",
					c.Name, criteria.HumanSeconds(c.ConclusiveSeconds), criteria.HumanSeconds(c.WatchedSeconds), criteria.HumanPercent(c.Ratio), criteria.HumanPercent(minCoverage))}
		}
	}
	return change.Verdict{}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// soakProgress is what the soak journals every checkpoint, so that a
// resumed run watches only the rest and keeps the coverage so far.
type soakProgress struct {
	Seconds    float64             `json:"seconds"`
	Conclusive map[string]float64  `json:"conclusive,omitempty"`
	Gaps       []evidence.WatchGap `json:"gaps,omitempty"`
}

// soakObservedProgress reads the journal's last soak_observed note.
func soakObservedProgress(recs []change.Record) (time.Duration, map[string]time.Duration, []evidence.WatchGap) {
	var p soakProgress
	for _, rec := range recs {
		if rec.Kind != "note" || rec.Reason != soakObservedNote {
			continue
		}
		var v soakProgress
		if json.Unmarshal(rec.Data, &v) == nil && v.Seconds > 0 {
			p = v
		}
	}
	conc := map[string]time.Duration{}
	for k, s := range p.Conclusive {
		conc[k] = secs(s)
	}
	return secs(p.Seconds), conc, p.Gaps
}

func (r *runner) journalSoakProgress(w *watchedTime, earlier time.Duration, earlierConc map[string]time.Duration, earlierGaps []evidence.WatchGap) {
	p := soakProgress{Seconds: (earlier + w.watched).Seconds(), Conclusive: map[string]float64{}, Gaps: append(append([]evidence.WatchGap(nil), earlierGaps...), w.gaps...)}
	for k, d := range w.conclusive {
		p.Conclusive[k] = (d + earlierConc[k]).Seconds()
	}
	raw, _ := json.Marshal(p)
	if _, err := r.journal.Append(change.Record{Kind: "note", Reason: soakObservedNote, Data: raw}, r.clock.Now()); err != nil {
		r.logf("soak: cannot journal the observed time (%v): a resumed run would watch the whole soak again", err)
	}
}
