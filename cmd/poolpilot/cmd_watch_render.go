package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/source"
)

// watchRenderer writes watch's output: a table redrawn in place on a
// terminal, JSON lines otherwise.
type watchRenderer struct {
	w        io.Writer
	table    bool
	skipped  []skippedCriterion
	decided  bool
	n        int
	interval time.Duration
	last     criteria.Evaluation
}

func newWatchRenderer(w io.Writer, jsonOut bool) *watchRenderer {
	return &watchRenderer{w: w, table: !jsonOut && isTerminal(w)}
}

// Watch JSON lines: one "start", one "evaluation" per interval, one
// "decision" when a rollback trigger first fires, one "end".
type watchStartLine struct {
	Type      string             `json:"type"`
	Criteria  []string           `json:"criteria"`
	Skipped   []skippedCriterion `json:"skipped,omitempty"`
	Sources   []string           `json:"sources"`
	IntervalS float64            `json:"interval_s"`
}

type watchEvalLine struct {
	Type string `json:"type"`
	criteria.Evaluation
}

type watchDecisionLine struct {
	Type string `json:"type"`
	*criteria.Decision
}

type watchEndLine struct {
	Type        string           `json:"type"`
	Evaluations int              `json:"evaluations"`
	Fired       string           `json:"fired,omitempty"`
	Verdict     criteria.Verdict `json:"verdict"`
	Exit        int              `json:"exit"`
}

func (r *watchRenderer) line(v any) {
	b, _ := json.Marshal(v)
	r.w.Write(append(b, '\n'))
}

func (r *watchRenderer) start(eng *criteria.Engine, sources []source.Source, skipped []skippedCriterion) {
	r.skipped, r.interval = skipped, eng.Options().Interval
	if r.table {
		return
	}
	st := watchStartLine{Type: "start", Skipped: skipped, IntervalS: r.interval.Seconds()}
	for _, c := range eng.Criteria() {
		st.Criteria = append(st.Criteria, c.Name)
	}
	for _, s := range sources {
		st.Sources = append(st.Sources, s.Name())
	}
	r.line(st)
}

func (r *watchRenderer) evaluation(ev criteria.Evaluation) {
	r.n++
	r.last = ev
	dec := ev.Decision
	if r.table {
		r.drawTable(ev)
		return
	}
	ev.Decision = nil
	r.line(watchEvalLine{Type: "evaluation", Evaluation: ev})
	if dec != nil && !r.decided {
		r.decided = true
		r.line(watchDecisionLine{Type: "decision", Decision: dec})
	}
}

func (r *watchRenderer) end(dec *criteria.Decision) {
	end := watchEndLine{Type: "end", Evaluations: r.n, Verdict: r.last.Verdict}
	if dec != nil {
		end.Fired, end.Exit = dec.Criterion, 3
	}
	if !r.table {
		r.line(end)
		return
	}
	if dec != nil {
		fmt.Fprintf(r.w, "\nROLLBACK TRIGGER FIRED: %s (%s) on %s: %s\n", dec.Criterion, dec.Class, orDash(dec.Instance), dec.Reason)
		fmt.Fprintf(r.w, "evidence: %d samples from %s to %s\n", len(dec.Evidence), dec.Evidence[0].Time.Format(time.TimeOnly), dec.Evidence[len(dec.Evidence)-1].Time.Format(time.TimeOnly))
		return
	}
	fmt.Fprintf(r.w, "\nno rollback trigger fired in %d evaluations\n", r.n)
}

func (r *watchRenderer) drawTable(ev criteria.Evaluation) {
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J")
	v := ev.Verdict
	fmt.Fprintf(&b, "poolpilot watch  %s  every %s  success verdict: %s\n\n", ev.Time.Format(time.TimeOnly), r.interval, verdictText(v))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CRITERION\tROLE\tVALUE\tEXPR\tSTATE\tTIME TO FIRE\tINSTANCE")
	for _, res := range ev.Results {
		role := res.Role
		if res.Class != "" {
			role += " " + res.Class
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", res.Name, role, fmtValue(res), res.Expr, stateText(res), timeToFire(res), orDash(res.Instance))
	}
	tw.Flush()
	for _, s := range r.skipped {
		fmt.Fprintf(&b, "not watched: %s (%s: %s)\n", s.Name, s.Metric, s.Reason)
	}
	io.WriteString(r.w, b.String())
}

func verdictText(v criteria.Verdict) string {
	switch {
	case v.Success:
		return fmt.Sprintf("SUCCESS (all ok for %s)", secs(v.HeldS))
	case len(v.Failing) > 0:
		return "not ok: " + strings.Join(v.Failing, ", ")
	default:
		return fmt.Sprintf("all ok for %s of %s", secs(v.HeldS), secs(v.WindowS))
	}
}

func stateText(r criteria.Result) string {
	if r.State == criteria.StateInconclusive {
		return "inconclusive: " + r.Reason
	}
	return string(r.State)
}

func timeToFire(r criteria.Result) string {
	switch r.State {
	case criteria.StatePending:
		return secs(r.LeftS)
	case criteria.StateFiring:
		return "FIRING"
	}
	return "window " + secs(r.ForS)
}

func secs(s float64) string { return criteria.HumanSeconds(s) }

// fmtValue is the result's value in its metric's unit.
func fmtValue(r criteria.Result) string {
	if r.Value == nil {
		return "-"
	}
	return criteria.Human(r.Metric(), *r.Value)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
