package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/criteria"
)

// view is the Model formatted for display; Markdown and HTML render it.
type view struct {
	M            *Model
	Title        string
	VerdictLabel string
	Facts        [][2]string
	Integrity    string
	IntegrityOK  bool
	Criteria     []critRow
	Coverage     []covRow
	// CoverageNote gives the figures the soak's verdict used (watched time,
	// gaps without evaluation, the minimum share), when the run recorded
	// them.
	CoverageNote string
	LoadTest     [][2]string
	States       []stateRow
	Approvals    []string
	Checklist    []checkRow
	Files        []fileRow
}

type critRow struct{ Name, Role, Class, Expr, For, Value, Verdict, Detail string }
type covRow struct{ Name, Role, Conclusive, Inconclusive, Unwatched, Share string }
type stateRow struct{ State, Entered, Duration, Reason string }
type checkRow struct{ ID, Title, Kind, Status, By, Detail string }
type fileRow struct{ Name, SHA256, Size, OK string }

var verdictLabels = map[string]string{
	VerdictSucceeded: "SUCCEEDED", VerdictSettled: "SETTLED", VerdictRolledBack: "ROLLED BACK", VerdictRollbackFailed: "ROLLBACK FAILED",
	VerdictRefused: "REFUSED", VerdictIncomplete: "INCOMPLETE",
}

func newView(m *Model) *view {
	v := &view{M: m, Title: "Post-change report: " + orDash(m.Plan), VerdictLabel: verdictLabels[m.Verdict]}
	v.Facts = [][2]string{
		{"Plan", orDash(m.Plan)}, {"Run", m.RunID}, {"poolpilot", orNotRecorded(m.PoolpilotVersion)},
		{"Started", fmtTime(m.Start)}, {"Ended", fmtTime(m.End) + " (" + fmtDur(m.End.Sub(m.Start)) + ")"},
		{"Final state", orDash(m.FinalState)},
	}
	v.integrity()
	v.criteria()
	v.coverage()
	v.loadTest()
	for _, s := range m.States {
		v.States = append(v.States, stateRow{s.State, fmtTime(s.Entered), fmtDur(s.Duration), Humanize(s.Reason)})
	}
	if a := m.Files.Approval; a != nil {
		for _, ap := range a.Approvals {
			s := fmt.Sprintf("%s (%s) at %s: “%s” — plan sha256 %s", ap.By, orDash(ap.Role), fmtTime(ap.Time), ap.Statement, short(ap.PlanSHA256))
			if ap.Signature != "" {
				s += ", signed (Ed25519)"
			}
			v.Approvals = append(v.Approvals, s)
		}
	}
	if c := m.Files.Checklist; c != nil {
		for _, it := range c.Items {
			v.Checklist = append(v.Checklist, checkRow{it.ID, it.Title, it.Kind, it.Status, it.By, it.Detail})
		}
	}
	for _, f := range m.Integrity.Files {
		ok := "✓"
		if !f.OK {
			ok = "✗"
		}
		v.Files = append(v.Files, fileRow{f.Name, short(f.SHA256), fmt.Sprint(f.Size), ok})
	}
	return v
}

func (v *view) integrity() {
	r := v.M.Integrity
	v.IntegrityOK = r.OK
	if r.OK {
		sig := "not signed"
		if r.Signed {
			sig = "signed (check with --pubkey)"
		}
		v.Integrity = fmt.Sprintf("intact: %d audit lines, %d files, head %s, %s", r.Lines, len(r.Files), r.Head, sig)
		return
	}
	v.Integrity = "NOT intact: " + r.Problems[0].Message
	if n := len(r.Problems); n > 1 {
		v.Integrity += fmt.Sprintf(" (and %d more problem%s: run poolpilot evidence verify)", n-1, map[bool]string{true: "s"}[n > 2])
	}
}

func (v *view) criteria() {
	mon := v.M.Files.Monitoring
	if mon == nil {
		return
	}
	for _, c := range mon.Criteria {
		val := "no data"
		if c.Metric == "" && c.Value == nil {
			val = "–"
		}
		if c.Value != nil {
			val = fmtMetric(c.Metric, *c.Value)
		}
		v.Criteria = append(v.Criteria, critRow{c.Name, c.Role, c.Class, c.Expr, c.For, val, c.Verdict, Humanize(c.Detail)})
	}
}

func (v *view) loadTest() {
	lt := v.M.Files.LoadTest
	if lt == nil {
		return
	}
	res := "passed"
	if !lt.Passed {
		res = "FAILED: " + strings.Join(lt.Failures, "; ")
	}
	v.LoadTest = [][2]string{
		{"Target", lt.Target + " (" + orDash(lt.Workload) + ")"},
		{"Duration", criteria.HumanSeconds(lt.DurationSeconds)},
		{"Rate", criteria.HumanKind(criteria.KindCount, lt.AchievedRate) + " req/s achieved of " + criteria.HumanKind(criteria.KindCount, lt.TargetRate) + " target"},
		{"Requests", fmt.Sprintf("%d, %d errors (%s), %d late", lt.Requests, lt.Errors, criteria.HumanPercent(lt.ErrorRate), lt.Late)},
		{"Latency", fmt.Sprintf("p50 %s, p95 %s, p99 %s, max %s", criteria.HumanMillis(lt.LatencyMS.P50), criteria.HumanMillis(lt.LatencyMS.P95), criteria.HumanMillis(lt.LatencyMS.P99), criteria.HumanMillis(lt.LatencyMS.Max))},
		{"Result", res},
	}
	if lt.Pool != nil {
		v.LoadTest = append(v.LoadTest[:5], [2]string{"Pool", "wait p95 " + criteria.HumanMillis(lt.Pool.WaitP95MS) + ", utilization max " + criteria.HumanPercent(lt.Pool.UtilizationMax)}, v.LoadTest[5])
	}
}

func fmtMetric(metric string, v float64) string { return criteria.Human(metric, v) }

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func fmtDur(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	return criteria.HumanDuration(d)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// orNotRecorded shows a fact the evidence may lack (folders from before
// poolpilot recorded it).
func orNotRecorded(s string) string {
	if s == "" {
		return "not recorded"
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// coverage is the soak coverage table: what the report derives from the
// samples, beside each success criterion's conclusive share of the watched
// time as the verdict counted it (sustained_monitoring.json's coverage,
// gaps over three intervals excluded from the watched time).
func (v *view) coverage() {
	m := v.M
	judged := map[string]string{}
	sm := m.Files.Monitoring
	if sm != nil {
		for _, c := range sm.Coverage {
			judged[c.Name] = criteria.HumanPercent(c.Ratio)
		}
	}
	for _, c := range m.Coverage {
		share, ok := judged[c.Name]
		if !ok {
			share = "–"
		}
		v.Coverage = append(v.Coverage, covRow{c.Name, c.Role, criteria.HumanDuration(c.Conclusive), criteria.HumanDuration(c.Inconclusive), criteria.HumanDuration(c.Unwatched), share})
	}
	if sm == nil || (sm.WatchedSeconds == 0 && len(sm.Coverage) == 0) {
		return
	}
	soak := sm.Ended.Sub(sm.Started)
	note := fmt.Sprintf("As the verdict counted it: watched %s of the %s soak", criteria.HumanSeconds(sm.WatchedSeconds), criteria.HumanDuration(soak))
	switch len(sm.Gaps) {
	case 0:
		note += ", with no gap between evaluations longer than three intervals"
	default:
		var gs []string
		for _, g := range sm.Gaps {
			gs = append(gs, fmt.Sprintf("%s from %s", criteria.HumanSeconds(g.Seconds), g.From.UTC().Format("15:04:05")))
		}
		note += fmt.Sprintf("; %d gap(s) without evaluation, not counted as watched: %s", len(sm.Gaps), strings.Join(gs, ", "))
	}
	if sm.MinCoverage > 0 {
		note += fmt.Sprintf(". Each success criterion had to be conclusive for at least %s of the watched time (its share is in the last column)", criteria.HumanPercent(sm.MinCoverage))
	}
	v.CoverageNote = note + "."
}
