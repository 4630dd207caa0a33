package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
)

func (r *runner) preflight(ctx context.Context) (change.PreflightVerdict, error) {
	r.notifyNow(ctx, "start", fmt.Sprintf("poolpilot: plan %s starting (run %s): pool %d:%d → %d:%d on %d instance(s)",
		r.p.Name, r.folder.RunID(), r.p.Change.From.Max, r.p.Change.From.Min, r.p.Change.To.Max, r.p.Change.To.Min, len(r.p.Instances)))
	rep := r.o.Run.RunPreflight(ctx)
	r.writeChecklist(rep.ChecklistItems(), rep.OK)
	for _, c := range rep.Checks {
		r.logf("preflight %-4s %s: %s", c.Status, c.ID, short(c.Detail, 160))
	}
	return rep, nil
}

// writeChecklist writes checklist.json: the automated checks and the
// manual items with who ticked them.
func (r *runner) writeChecklist(auto []evidence.ChecklistItem, passed bool) {
	cl := evidence.Checklist{Passed: passed, Items: auto}
	ticked, _, err := change.CheckTicks(r.o.Run.PlanDir, r.p)
	for _, it := range r.p.Checklist {
		ci := evidence.ChecklistItem{ID: it.ID, Title: it.Description, Kind: "manual", Status: "pending"}
		if t, ok := ticked[it.ID]; ok && err == nil {
			ci.Status, ci.By, ci.Time = "pass", t.By, t.Time
			_ = r.folder.RecordAs(t.By, ci)
		}
		cl.Items = append(cl.Items, ci)
	}
	r.writeJSON(evidence.FileChecklist, cl)
}

func (r *runner) approvals(ctx context.Context) error {
	st, err := change.CheckApprovalsFor(r.o.Run.PlanDir, r.p, r.folder.RunID())
	rec := evidence.ApprovalRecord{Plan: r.p.Name, PlanSHA256: r.p.SHA256(), Approvals: []evidence.Approval{}}
	if r.p.Approvals.Required > 0 {
		rec.Required = []string{fmt.Sprintf("%d approval(s) stating %q", r.p.Approvals.Required, r.p.Approvals.Statement)}
	}
	var names []string
	for _, a := range st.Valid {
		ea := a.Evidence()
		rec.Approvals = append(rec.Approvals, ea)
		names = append(names, a.By)
		_ = r.folder.RecordAs(a.By, ea)
	}
	for _, p := range st.Problems {
		r.event(evidence.Note{Text: "approval not counted: " + p})
	}
	if r.p.Approvals.Required > 0 && !r.p.Approvals.Signed() {
		r.event(evidence.Note{Text: change.UnsignedApprovalsWarning})
	}
	r.writeJSON(evidence.FileApproval, rec)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		r.notifyNow(ctx, "approval", fmt.Sprintf("poolpilot: plan %s approved by %v (sha256 %s…)", r.p.Name, names, r.p.SHA256()[:12]))
	}
	return nil
}

func (r *runner) window(now time.Time) error {
	w := r.p.Window
	in, err := w.Contains(now)
	if err != nil {
		return err
	}
	if in {
		return nil
	}
	nowText := now.UTC().Format("2006-01-02 15:04 MST")
	if loc, lerr := time.LoadLocation(w.Timezone); lerr == nil && w.Timezone != "" {
		nowText = now.In(loc).Format("2006-01-02 15:04 MST")
	}
	if !r.o.Operator.OverrideWindow {
		return fmt.Errorf("outside the change window %s (now %s): run inside it, or give --override-window --reason TEXT", w, nowText)
	}
	who := r.o.Operator.Name
	if who == "" {
		who = "operator"
	}
	_ = r.folder.RecordAs(who, evidence.WindowOverride{Window: w.String(), Now: nowText, Reason: r.o.Operator.OverrideReason})
	r.logf("outside the change window %s (now %s): overridden by %s: %s", w, nowText, who, r.o.Operator.OverrideReason)
	return nil
}

// baselineData is what the baseline phase measured; it is journalled so
// that a resumed run has it.
type baselineData struct {
	Baselines map[string]float64    `json:"baselines"`
	Fleet     evidence.Aggregate    `json:"fleet"`
	Latency   evidence.LatencyStats `json:"latency"`
	Time      time.Time             `json:"time"`
	Window    float64               `json:"window_seconds"`
}

func (r *runner) baseline(ctx context.Context) error {
	m, err := r.ensureMonitor(ctx)
	if err != nil {
		return err
	}
	d := r.p.Baseline.Duration.D()
	r.logf("baseline: measuring for %s", d)
	stopLoad := r.background(ctx, r.p.Soak.Rate, d+3*m.Interval(), "baseline")
	err = m.Run(ctx, d, r.progressFn("baseline", d))
	var bl map[string]float64
	var berr error
	if err == nil {
		// A window of one or two polls may end before the last poll lands:
		// give it up to three more intervals.
		bl, berr = m.Engine().CaptureBaseline(d)
		for i := 0; berr != nil && i < 3 && err == nil; i++ {
			err = m.Run(ctx, m.Interval(), func(criteria.Evaluation) bool { return false })
			if err == nil {
				bl, berr = m.Engine().CaptureBaseline(d + time.Duration(i+1)*m.Interval())
			}
		}
	}
	stopLoad()
	if c := r.cv.take(); len(c) > 0 {
		r.event(evidence.Note{Text: "poolpilot's own requests during the baseline", Client: c})
	}
	if err != nil {
		return err
	}
	if err := berr; err != nil {
		return fmt.Errorf("%v: the service had no traffic to measure; give the plan a soak.rate (background load during baseline and soak) or run it during traffic", err)
	}
	snap := r.snapshot(ctx)
	b := &baselineData{Baselines: bl, Fleet: snap.fleet(), Latency: snap.latency(), Time: r.clock.Now().UTC(), Window: d.Seconds()}
	raw, _ := json.Marshal(b)
	if _, err := r.journal.Append(change.Record{Kind: "note", Reason: "baseline", Data: raw}, r.clock.Now()); err != nil {
		return err
	}
	r.base = b
	r.writeBaselineFiles(ctx, snap, b)
	r.event(evidence.Note{Text: fmt.Sprintf("baseline over %s: %s", d, fmtBaselines(bl))})
	return r.spendApprovals()
}

// spendApprovals records, just before the first change, that this run used
// its approvals: a later run of the plan needs new ones. A run refused
// earlier (preflight, window, baseline) changed nothing and spends nothing.
// A resumed run may record its approvals again; they stay its own.
func (r *runner) spendApprovals() error {
	if r.p.Approvals.Required == 0 {
		return nil
	}
	st, err := change.CheckApprovalsFor(r.o.Run.PlanDir, r.p, r.folder.RunID())
	if err != nil {
		return fmt.Errorf("approvals changed since the run was approved: %w", err)
	}
	if err := change.MarkUsed(r.o.Run.PlanDir, r.folder.RunID(), r.p, st.Valid, r.clock.Now()); err != nil {
		return fmt.Errorf("cannot record that this run used its approvals (%w): refusing to apply, nothing was changed", err)
	}
	return nil
}

// restoreBaseline reads the journalled baseline on resume.
func (r *runner) restoreBaseline() {
	for _, rec := range r.journal.Records() {
		if rec.Kind == "note" && rec.Reason == "baseline" {
			var b baselineData
			if json.Unmarshal(rec.Data, &b) == nil {
				r.base = &b
			}
		}
	}
}

func fmtBaselines(bl map[string]float64) string {
	if len(bl) == 0 {
		return "no baseline-relative criterion"
	}
	s := ""
	for k, v := range bl {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%s %.4g", k, v)
	}
	return s
}
