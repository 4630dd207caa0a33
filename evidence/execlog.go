package evidence

import (
	"encoding/json"
	"fmt"
	"strings"
)

// writeExecLogLocked renders EXECUTION_LOG.md from the audit log and
// writes it through writeLocked.
func (f *Folder) writeExecLogLocked() error {
	return f.writeLocked(FileExecutionLog, RenderExecutionLog(f.plan, f.runID, f.lines))
}

// RenderExecutionLog renders the seed's execution log from audit lines:
// one section per state of the run, one bullet per event with its UTC
// time. The file_written events of EXECUTION_LOG.md itself are left out.
func RenderExecutionLog(plan, runID string, lines []Line) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Execution log: %s\n\n", mdEscape(plan))
	fmt.Fprintf(&b, "Run `%s`. Every step with its time (UTC), rendered by poolpilot from `audit.jsonl`", runID)
	if n := len(lines); n > 0 {
		fmt.Fprintf(&b, " (lines 1–%d, last hash `%s`)", lines[n-1].Seq, lines[n-1].Hash[:16])
	}
	b.WriteString(". The audit log is the record; this file is its readable view.\n")
	section := ""
	d := NewDecoder(lines)
	for _, l := range lines {
		if l.Event == EventFileWritten && fileName(l) == FileExecutionLog {
			continue
		}
		if l.Event == EventStateChange || section == "" {
			title := "Start"
			if l.Event == EventStateChange {
				sc, _ := d.StateChange(l)
				title = "State: " + orDash(sc.To)
			}
			if title != section {
				fmt.Fprintf(&b, "\n## %s\n\n", mdEscape(title))
				section = title
			}
		}
		fmt.Fprintf(&b, "- `%s` #%d **%s** (%s): %s\n", l.Time.UTC().Format("2006-01-02 15:04:05.000Z"),
			l.Seq, l.Event, mdEscape(l.Actor), mdEscape(d.Describe(l)))
	}
	return []byte(b.String())
}

func fileName(l Line) string {
	var fw FileWritten
	_ = json.Unmarshal(l.Data, &fw)
	return fw.Name
}

// Describe is a one-line human description of an audit event of d's log.
func (d Decoder) Describe(l Line) string {
	switch l.Event {
	case EventStateChange:
		return d.describeStateChange(l)
	case EventApply:
		return d.describeApply(l)
	case EventCriterionFired:
		return d.describeCriterionFired(l)
	}
	if f, ok := describers[l.Event]; ok {
		return f(l)
	}
	return compactData(l.Data)
}

// describers hold one description function per known event whose shape
// never changed.
var describers = map[string]func(Line) string{
	EventRunOpened:        describeRunOpened,
	EventRunResumed:       describeRunResumed,
	EventRunClosed:        describeRunClosed,
	EventVerify:           describeVerify,
	EventRollback:         describeRollback,
	EventIncident:         describeIncident,
	EventFileWritten:      describeFileWritten,
	EventFileRecovered:    describeFileWritten,
	EventPlanLoaded:       describePlanLoaded,
	EventChecklistItem:    describeChecklistItem,
	EventApprovalRecorded: describeApprovalRecorded,
	EventNote:             describeNote,
}

func describeRunOpened(l Line) string {
	var d RunOpened
	_ = json.Unmarshal(l.Data, &d)
	s := fmt.Sprintf("run %s of plan %s opened", d.RunID, d.Plan)
	if d.PoolpilotVersion != "" {
		s += " by poolpilot " + d.PoolpilotVersion
	}
	return s
}

func describeRunResumed(l Line) string {
	var d RunResumed
	_ = json.Unmarshal(l.Data, &d)
	s := fmt.Sprintf("run resumed after line %d", d.AfterSeq)
	if d.TornLine != nil {
		s += fmt.Sprintf("; cut off the incomplete line %d (%d bytes, sha256 %s)", d.TornLine.Line, d.TornLine.Bytes, short(d.TornLine.SHA256))
	}
	if len(d.RemovedTemp) > 0 {
		s += "; removed interrupted writes " + strings.Join(d.RemovedTemp, ", ")
	}
	return s
}

func describeRunClosed(l Line) string {
	return "run closed"
}

func (dec Decoder) describeStateChange(l Line) string {
	d, err := dec.StateChange(l)
	if err != nil {
		return "UNREADABLE: " + err.Error()
	}
	if d.From == "" && dec.Legacy && strings.Contains(string(l.Data), `"state":`) {
		return withReason("→ "+d.To, d.Reason)
	}
	return withReason(fmt.Sprintf("%s → %s", orDash(d.From), d.To), d.Reason)
}

func (dec Decoder) describeApply(l Line) string {
	d, err := dec.Apply(l)
	if err != nil {
		return "UNREADABLE: " + err.Error()
	}
	verb := "applied"
	if d.Rollback {
		verb = "restored"
	}
	max, min := d.ToMax, d.ToMin
	s := fmt.Sprintf("%s on %s: max %d→%d, min %d→%d", verb, d.Instance, d.FromMax, max, d.FromMin, min)
	if d.FromMax == 0 && d.FromMin == 0 {
		s = fmt.Sprintf("%s on %s: max %d, min %d", verb, d.Instance, max, min)
	}
	if d.Driver != "" {
		s += " (" + d.Driver + ")"
	}
	if d.Error != "" {
		s += " FAILED: " + d.Error
	}
	return s
}

func describeVerify(l Line) string {
	var d VerifyCheck
	_ = json.Unmarshal(l.Data, &d)
	ok := "ok"
	if !d.OK {
		ok = "MISMATCH"
	}
	return withReason(fmt.Sprintf("%s reports max %d, min %d: %s", d.Instance, d.Max, d.Min, ok), d.Detail)
}

func (dec Decoder) describeCriterionFired(l Line) string {
	d, err := dec.CriterionFired(l)
	if err != nil {
		return "UNREADABLE: " + err.Error()
	}
	s := strings.TrimSpace(fmt.Sprintf("%s %s fired", d.Role, d.Name))
	if d.Class != "" {
		s += " [" + d.Class + "]"
	}
	if d.Expr != "" {
		s += " (" + d.Expr + ")"
	}
	if d.Value != nil {
		s += fmt.Sprintf(", value %g", *d.Value)
	}
	if d.HeldFor != "" {
		s += ", held " + d.HeldFor
	}
	if d.Phase != "" {
		s += " during " + d.Phase
	}
	return withReason(s, d.Reason)
}

func describeRollback(l Line) string {
	var d Rollback
	_ = json.Unmarshal(l.Data, &d)
	s := "rollback: " + d.Reason
	if d.Automatic {
		s = "automatic " + s
	}
	if d.Instances > 0 {
		s += fmt.Sprintf(" (%d instances to max %d, min %d)", d.Instances, d.ToMax, d.ToMin)
	}
	return s
}

func describeIncident(l Line) string {
	var d Incident
	_ = json.Unmarshal(l.Data, &d)
	return withReason(fmt.Sprintf("%s incident: %s", d.Class, d.Name), d.Detail)
}

func describeFileWritten(l Line) string {
	var d FileWritten
	_ = json.Unmarshal(l.Data, &d)
	verb := "wrote"
	if l.Event == EventFileRecovered {
		verb = "recovered after a crash"
	}
	return fmt.Sprintf("%s %s (%d bytes, sha256 %s)", verb, d.Name, d.Size, short(d.SHA256))
}

func describePlanLoaded(l Line) string {
	var d PlanLoaded
	_ = json.Unmarshal(l.Data, &d)
	return fmt.Sprintf("plan %s loaded (sha256 %s)", d.Name, short(d.SHA256))
}

func describeChecklistItem(l Line) string {
	var d ChecklistItem
	_ = json.Unmarshal(l.Data, &d)
	return withReason(fmt.Sprintf("checklist %s [%s]: %s", d.ID, d.Status, d.Title), d.Detail)
}

func describeApprovalRecorded(l Line) string {
	var d Approval
	_ = json.Unmarshal(l.Data, &d)
	signed := ""
	if d.Signature != "" {
		signed = ", signed"
	}
	return fmt.Sprintf("approval by %s (%s): %q, plan sha256 %s%s", d.By, orDash(d.Role), d.Statement, short(d.PlanSHA256), signed)
}

func describeNote(l Line) string {
	var d Note
	_ = json.Unmarshal(l.Data, &d)
	return d.Text
}

func compactData(d json.RawMessage) string {
	s := string(d)
	if len(s) > 200 {
		s = s[:197] + "…"
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func withReason(s, reason string) string {
	if reason != "" {
		return s + " — " + reason
	}
	return s
}

// mdEscape keeps free text from breaking Markdown structure.
func mdEscape(s string) string {
	r := strings.NewReplacer("\n", " ", "\r", " ", "|", `\|`, "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}
