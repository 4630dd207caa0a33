package dashboard

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/chart"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/report"
)

// runIDRe is what a run id (a run folder's name) may be.
var runIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// findRunDirs maps run ids to run folders under dir: dir itself, its
// children and grandchildren that hold an audit.jsonl.
func findRunDirs(dir string) (map[string]string, error) {
	out := map[string]string{}
	for _, pat := range []string{"", "*", filepath.Join("*", "*")} {
		ms, err := filepath.Glob(filepath.Join(dir, pat, evidence.FileAudit))
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			d := filepath.Dir(m)
			id := filepath.Base(d)
			if runIDRe.MatchString(id) && !strings.HasSuffix(id, ".run") {
				if _, dup := out[id]; !dup {
					out[id] = d
				}
			}
		}
	}
	return out, nil
}

// folderKey changes whenever the folder's audit log or head does.
func folderKey(dir string) string {
	key := ""
	for _, n := range []string{evidence.FileAudit, evidence.FileHead} {
		if st, err := os.Stat(filepath.Join(dir, n)); err == nil {
			key += fmt.Sprintf("%d.%d;", st.Size(), st.ModTime().UnixNano())
		}
	}
	return key
}

// folderRun returns the run read from dir, reloading it when the folder
// changed since the last read.
func (h *Hub) folderRun(id, dir string) (*run, error) {
	key := folderKey(dir)
	h.mu.Lock()
	r := h.folder[id]
	h.mu.Unlock()
	if r != nil && r.folderKey == key && r.dir == dir {
		return r, nil
	}
	m, err := report.Load(dir)
	if err != nil {
		return nil, err
	}
	r = runFromModel(id, m, h.now())
	r.folderKey = key
	h.mu.Lock()
	h.folder[id] = r
	h.mu.Unlock()
	return r, nil
}

// runFromModel builds a finished (or foreign, in progress) run from its
// folder's report model.
func runFromModel(id string, m *report.Model, now time.Time) *run {
	var p *plan.Plan
	if b, err := os.ReadFile(filepath.Join(m.Dir, evidence.FilePlan)); err == nil {
		p, _ = plan.Parse(b)
	}
	r := newRun(id, m.Dir, p, false, m.Start)
	r.verdict, r.tone, r.summary, r.planName = m.Verdict, m.Tone, m.Summary, m.Plan
	r.steps = readSteps(m.Dir)
	if p == nil {
		r.planInfo = planInfoFromFiles(m)
	}
	for _, s := range m.States {
		st := StateStep{State: s.State, Entered: s.Entered, Reason: s.Reason}
		if s.Duration > 0 {
			st.Left = s.Entered.Add(s.Duration)
		}
		r.states = append(r.states, st)
	}
	if n := len(r.states); n > 0 {
		last := r.states[n-1]
		r.state, r.stateSince = change.State(last.State), last.Entered
		r.terminal = r.state.Terminal()
		r.reason = last.Reason
		if r.terminal {
			r.ended = m.End
			r.states[n-1].Left = time.Time{}
		}
	}
	for _, e := range m.Timeline {
		if e.Event == evidence.EventFileWritten && strings.Contains(e.Text, evidence.FileExecutionLog) {
			continue
		}
		r.timeline = append(r.timeline, Entry{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Event: e.Event, Text: e.Text})
	}
	r.verify, r.files = verifyView(m.Integrity), fileViews(m.Integrity)
	r.marksFromLines(m.Lines)
	r.fromFiles(m.Files)
	r.seq = 1
	for _, s := range sections {
		r.versions[s] = 1
	}
	for i := range r.timeline {
		r.timeline[i].hubSeq = 1
	}
	_ = now
	return r
}

func (r *run) marksFromLines(lines []evidence.Line) {
	dec := evidence.NewDecoder(lines)
	for _, l := range lines {
		switch l.Event {
		case evidence.EventStateChange:
			sc, _ := stateChangeOf(dec, l)
			switch change.State(sc.To) {
			case change.StateApplying:
				r.marks = append(r.marks, chart.Mark{T: l.Time, Label: "apply", Kind: chart.MarkApply})
			case change.StateRollingBack:
				r.marks = append(r.marks, chart.Mark{T: l.Time, Label: "rollback", Kind: chart.MarkRollback})
			case change.StateLoadTest:
				r.marks = append(r.marks, chart.Mark{T: l.Time, Label: "load test", Kind: chart.MarkOther})
			case change.StateSoak:
				r.marks = append(r.marks, chart.Mark{T: l.Time, Label: "soak", Kind: chart.MarkOther})
			}
		case evidence.EventCriterionFired:
			r.marks = append(r.marks, chart.Mark{T: l.Time, Label: "fired: " + firedName(dec, l), Kind: chart.MarkFired})
		}
	}
}

// fromFiles fills criteria, samples and instances from the evidence files.
func (r *run) fromFiles(f report.Files) {
	if mon := f.Monitoring; mon != nil {
		r.samples = mon.Samples
		for _, c := range mon.Criteria {
			r.criteria = append(r.criteria, CriterionView{Name: c.Name, Role: c.Role, Class: c.Class, Expr: c.Expr,
				Metric: c.Metric, Op: c.Op, Value: c.Value, Threshold: c.Threshold, State: c.State, Reason: c.Detail, Verdict: c.Verdict})
			if get := report.SampleGetter(c.Metric); get != nil {
				var sp []*float64
				for _, s := range mon.Samples {
					sp = append(sp, get(s))
				}
				r.spark[c.Name] = downsample(sp, sparkPoints)
			}
		}
	}
	snap := f.PostConfig
	if snap == nil {
		snap = f.PreConfig
	}
	if snap != nil {
		for _, ic := range snap.Instances {
			m := ic.Matches
			iv := InstanceView{Name: ic.Name, Host: hostOf(ic.URL), Status: "configured", Error: ic.Error,
				Max: ic.Pool.Max, Min: ic.Pool.Min, Matches: &m,
				MaxSource: string(ic.Source["max"]), MinSource: string(ic.Source["min"])}
			if ic.Error != "" {
				iv.Status = "unreachable"
			}
			r.instances = append(r.instances, iv)
		}
	}
}

// downsample keeps at most n values, the largest of each bucket (spikes
// stay visible).
func downsample(vs []*float64, n int) []*float64 {
	if len(vs) <= n {
		return vs
	}
	out := make([]*float64, 0, n)
	for i := 0; i < n; i++ {
		lo, hi := i*len(vs)/n, (i+1)*len(vs)/n
		var best *float64
		for _, v := range vs[lo:hi] {
			if v != nil && (best == nil || *v > *best) {
				best = v
			}
		}
		out = append(out, best)
	}
	return out
}

// planInfoFromFiles is what the config snapshots say of the plan, for a
// folder whose plan.yaml is missing or unreadable.
func planInfoFromFiles(m *report.Model) *PlanInfo {
	pre, post := m.Files.PreConfig, m.Files.PostConfig
	if pre == nil {
		return nil
	}
	pi := &PlanInfo{Name: m.Plan, FromMax: pre.Expected.Max, FromMin: pre.Expected.Min}
	for _, ic := range pre.Instances {
		pi.Instances = append(pi.Instances, ic.Name+" ("+hostOf(ic.URL)+")")
	}
	if post != nil {
		pi.ToMax, pi.ToMin = post.Expected.Max, post.Expected.Min
	}
	if lt := m.Files.LoadTest; lt != nil {
		pi.LoadTest, pi.LoadRate = time.Duration(lt.DurationSeconds*float64(time.Second)), lt.TargetRate
	}
	if mon := m.Files.Monitoring; mon != nil {
		pi.Soak = time.Duration(mon.PlannedSeconds * float64(time.Second))
	}
	return pi
}
