package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
)

func (m *Model) derive() {
	for _, l := range m.Lines {
		if l.Event == evidence.EventRunOpened {
			var ro evidence.RunOpened
			_ = json.Unmarshal(l.Data, &ro)
			m.Plan, m.PoolpilotVersion = ro.Plan, ro.PoolpilotVersion
		}
	}
	if n := len(m.Lines); n > 0 {
		m.Start, m.End = m.Lines[0].Time, m.Lines[n-1].Time
	}
	m.deriveStates()
	m.deriveTimeline()
	m.deriveVerdict()
	m.PostRollbackNote = postRollbackNote(m.Files.PostRollback)
	m.Coverage = Coverage(m.Files.Monitoring)
	m.Changes = changes(m.Files.PreConfig, m.Files.PostConfig)
	m.Compare = compare(m.Files)
}

func (m *Model) deriveStates() {
	dec := evidence.NewDecoder(m.Lines)
	for _, l := range m.Lines {
		if l.Event != evidence.EventStateChange {
			continue
		}
		sc, err := dec.StateChange(l)
		if err != nil {
			continue // the timeline shows it UNREADABLE; verify flags it
		}
		if n := len(m.States); n > 0 {
			m.States[n-1].Duration = l.Time.Sub(m.States[n-1].Entered)
		}
		m.States = append(m.States, StateSpan{State: sc.To, Entered: l.Time, Reason: sc.Reason})
		m.FinalState = sc.To
	}
	if n := len(m.States); n > 0 {
		m.States[n-1].Duration = m.End.Sub(m.States[n-1].Entered)
	}
}

func (m *Model) deriveTimeline() {
	dec := evidence.NewDecoder(m.Lines)
	for _, l := range m.Lines {
		if l.Event == evidence.EventFileWritten && strings.Contains(string(l.Data), `"name":"`+evidence.FileExecutionLog+`"`) {
			continue
		}
		e := TimelineEntry{Time: l.Time, Seq: l.Seq, Actor: l.Actor, Event: l.Event, Text: Humanize(dec.Describe(l))}
		m.Timeline = append(m.Timeline, e)
		if isIncident(l.Event) {
			m.Incidents = append(m.Incidents, e)
		}
		if l.Event == evidence.EventRollback {
			var rb evidence.Rollback
			_ = json.Unmarshal(l.Data, &rb)
			m.Rollback = &rb
		}
	}
}

func (m *Model) deriveVerdict() {
	st := m.FinalState
	switch st {
	case "succeeded":
		m.Verdict, m.Tone = VerdictSucceeded, "ok"
		m.Summary = soakHeadline(m.Files.Monitoring)
		if !strings.Contains(m.Summary, "held every success criterion") {
			m.Tone = "warn"
		}
	case "settled":
		m.Verdict, m.Tone = VerdictSettled, "ok"
		m.Summary = "The staircase change settled at a smaller pool than its target, the best step seen (steps.json), and held there for the full soak."
	case "rolled-back":
		m.Verdict, m.Tone = VerdictRolledBack, "warn"
		m.Summary = "The change was rolled back and the previous configuration restored and verified."
	case "rollback-failed":
		m.Verdict, m.Tone = VerdictRollbackFailed, "fail"
		m.Summary = "The rollback did not complete: the service may not be at a known configuration. Act now."
	case "refused":
		m.Verdict, m.Tone = VerdictRefused, "warn"
		m.Summary = "The run was refused before anything was changed."
	default:
		m.Verdict, m.Tone = VerdictIncomplete, "fail"
		m.Summary = "The run did not finish"
		if st != "" {
			m.Summary += " (last state: " + st + ")"
		}
		m.Summary += ": it is still running, or it crashed and was not resumed."
	}
	if m.Rollback != nil && m.Verdict != VerdictRefused {
		m.Summary += " Rollback reason: " + Humanize(m.Rollback.Reason) + "."
	}
	if n := len(m.States); n > 0 && m.States[n-1].Reason != "" && (st == "refused" || st == "succeeded" || st == "settled" || st == "rolled-back") {
		m.Summary += " Final state: " + Humanize(m.States[n-1].Reason) + "."
	}
	if !m.Integrity.OK {
		m.Tone = "fail"
	}
}

// ChangeRow is one setting before and after.
type ChangeRow struct {
	Instance string `json:"instance"`
	Setting  string `json:"setting"`
	Before   string `json:"before"`
	After    string `json:"after"`
	Changed  bool   `json:"changed"`
}

func changes(pre, post *evidence.ConfigSnapshot) []ChangeRow {
	if pre == nil && post == nil {
		return nil
	}
	get := func(s *evidence.ConfigSnapshot, inst string) *evidence.PoolSetting {
		if s == nil {
			return nil
		}
		for _, i := range s.Instances {
			if i.Name == inst {
				return &i.Pool
			}
		}
		return nil
	}
	var names []string
	for _, s := range []*evidence.ConfigSnapshot{pre, post} {
		if s == nil {
			continue
		}
		for _, i := range s.Instances {
			if !containsStr(names, i.Name) {
				names = append(names, i.Name)
			}
		}
	}
	return groupRows(perInstance(names, get, pre, post), len(names))
}

// groupRows folds the rows of a setting into one when every instance has
// the same before and after.
func groupRows(rows []ChangeRow, instances int) []ChangeRow {
	if instances < 2 {
		return rows
	}
	var out []ChangeRow
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.Setting] {
			continue
		}
		same := 0
		for _, o := range rows {
			if o.Setting == r.Setting && o.Before == r.Before && o.After == r.After {
				same++
			}
		}
		if same == instances {
			seen[r.Setting] = true
			r.Instance = fmt.Sprintf("all %d instances", instances)
			out = append(out, r)
		}
	}
	for _, r := range rows {
		if !seen[r.Setting] {
			out = append(out, r)
		}
	}
	return out
}

func perInstance(names []string, get func(*evidence.ConfigSnapshot, string) *evidence.PoolSetting, pre, post *evidence.ConfigSnapshot) []ChangeRow {
	var rows []ChangeRow
	for _, n := range names {
		b, a := get(pre, n), get(post, n)
		for _, f := range []struct {
			name string
			get  func(*evidence.PoolSetting) int64
		}{
			{"max", func(p *evidence.PoolSetting) int64 { return int64(p.Max) }},
			{"min", func(p *evidence.PoolSetting) int64 { return int64(p.Min) }},
			{"idle_timeout_ms", func(p *evidence.PoolSetting) int64 { return p.IdleTimeoutMS }},
			{"connection_timeout_ms", func(p *evidence.PoolSetting) int64 { return p.ConnectionTimeoutMS }},
		} {
			r := ChangeRow{Instance: n, Setting: f.name, Before: "–", After: "–"}
			if b != nil {
				r.Before = fmt.Sprint(f.get(b))
			}
			if a != nil {
				r.After = fmt.Sprint(f.get(a))
			}
			r.Changed = r.Before != r.After
			rows = append(rows, r)
		}
	}
	return rows
}

func containsStr(ss []string, s string) bool {
	for _, o := range ss {
		if o == s {
			return true
		}
	}
	return false
}

// CompareRow is one metric, baseline against after.
type CompareRow struct {
	Metric   string `json:"metric"`
	Baseline string `json:"baseline"`
	After    string `json:"after"`
	Change   string `json:"change"`
	Worse    bool   `json:"worse"`
}

func compare(f Files) []CompareRow {
	var base, after *evidence.Aggregate
	if f.PreMetrics != nil {
		b := f.PreMetrics.Fleet
		base = &b
	}
	if f.Monitoring != nil {
		after = f.Monitoring.Summary
		if after == nil {
			after = fromSamples(f.Monitoring.Samples, f.Monitoring.Started)
		}
	}
	if base == nil && after == nil {
		return nil
	}
	if f.Latency != nil { // the latency comparison is the record for latencies
		if base != nil {
			base.LatencyP50MS, base.LatencyP95MS, base.LatencyP99MS = f.Latency.Baseline.P50MS, f.Latency.Baseline.P95MS, f.Latency.Baseline.P99MS
		}
		if after != nil {
			after.LatencyP50MS, after.LatencyP95MS, after.LatencyP99MS = f.Latency.After.P50MS, f.Latency.After.P95MS, f.Latency.After.P99MS
		}
	}
	row := func(name string, get func(*evidence.Aggregate) float64, format func(float64) string) CompareRow {
		r := CompareRow{Metric: name, Baseline: "–", After: "–", Change: "–"}
		if base != nil {
			r.Baseline = format(get(base))
		}
		if after != nil {
			r.After = format(get(after))
		}
		if base != nil && after != nil {
			b, a := get(base), get(after)
			if b != 0 {
				r.Change = fmt.Sprintf("%+.1f%%", (a-b)/b*100)
			}
			r.Worse = a > b*1.2 && a-b > 1e-9
		}
		return r
	}
	return []CompareRow{
		row("error rate", func(a *evidence.Aggregate) float64 { return a.ErrorRate }, criteria.HumanPercent),
		row("latency p50", func(a *evidence.Aggregate) float64 { return a.LatencyP50MS }, criteria.HumanMillis),
		row("latency p95", func(a *evidence.Aggregate) float64 { return a.LatencyP95MS }, criteria.HumanMillis),
		row("latency p99", func(a *evidence.Aggregate) float64 { return a.LatencyP99MS }, criteria.HumanMillis),
		row("pool utilization", func(a *evidence.Aggregate) float64 { return a.Utilization }, criteria.HumanPercent),
		row("pool wait p95", func(a *evidence.Aggregate) float64 { return a.WaitP95MS }, criteria.HumanMillis),
	}
}

// fromSamples summarises the samples from start on when the monitoring
// file has no summary: the mean error rate, the highest p95 latency,
// utilization and wait p95.
func fromSamples(ss []evidence.Sample, start time.Time) *evidence.Aggregate {
	a := &evidence.Aggregate{}
	n, sum := 0, 0.0
	for _, s := range ss {
		if s.Time.Before(start) {
			continue
		}
		if s.ErrorRate != nil {
			sum += *s.ErrorRate
			n++
		}
		a.LatencyP95MS = maxp(a.LatencyP95MS, s.LatencyP95MS)
		a.Utilization = maxp(a.Utilization, s.Utilization)
		a.WaitP95MS = maxp(a.WaitP95MS, s.WaitP95MS)
	}
	if n > 0 {
		a.ErrorRate = sum / float64(n)
	}
	return a
}

func maxp(a float64, p *float64) float64 {
	if p == nil {
		return a
	}
	return math.Max(a, *p)
}

// isIncident says whether an event belongs in the report's incidents: P0
// and P1 incidents, fired criteria, rollbacks, crash recoveries, and any
// event named *_failed (apply_failed, notify_failed, …).
func isIncident(event string) bool {
	switch event {
	case evidence.EventIncident, evidence.EventCriterionFired, evidence.EventRollback, evidence.EventRunResumed,
		evidence.EventFileRecovered, "resumed":
		return true
	}
	return strings.HasSuffix(event, "_failed")
}
