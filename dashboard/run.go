package dashboard

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/chart"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// Sections of a run's page, each replaced as a whole by an SSE message.
const (
	secHead      = "head"
	secStates    = "states"
	secCriteria  = "criteria"
	secCharts    = "charts"
	secInstances = "instances"
	secEvidence  = "evidence"
	secControl   = "control"
)

var sections = []string{secHead, secStates, secCriteria, secCharts, secInstances, secEvidence, secControl}

// Limits of what a run keeps in memory.
const (
	maxSamples   = 48 * 3600
	sparkPoints  = 120
	maxTimeline  = 5000
	chartPoints  = 600
	maxReasonLen = 1000
	maxByLen     = 100
)

// run is one run the Hub shows: live (fed by an Observer) or read from an
// evidence folder. Every change bumps seq and the changed sections'
// versions, and closes changed to wake the SSE streams.
type run struct {
	id, dir string
	epoch   string // distinguishes this object's event ids from another's

	mu       sync.Mutex
	dec      evidence.Decoder // the audit schema of the run's log
	seq      uint64
	versions map[string]uint64
	changed  chan struct{}
	cache    map[string]rendered

	live       bool
	plan       *plan.Plan
	planName   string
	planInfo   *PlanInfo // finished runs without a readable plan.yaml
	compiled   map[string]criteria.Criterion
	state      change.State
	stateSince time.Time
	states     []StateStep
	started    time.Time
	ended      time.Time
	terminal   bool
	reason     string
	verdict    string
	tone       string
	summary    string
	criteria   []CriterionView
	spark      map[string][]*float64
	samples    []evidence.Sample
	instances  []InstanceView
	timeline   []Entry
	marks      []chart.Mark
	files      []FileView
	verify     *VerifyView
	steps      *StepsView // a staircase change's steps
	rollbackAt time.Time  // when a manual rollback was requested here
	auditOff   int64
	tailMu     sync.Mutex // one reader of the audit log at a time
	folderKey  string
}

type rendered struct {
	version uint64
	html    string
}

func newEpoch() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newRun(id, dir string, p *plan.Plan, live bool, now time.Time) *run {
	r := &run{id: id, dir: dir, epoch: newEpoch(), versions: map[string]uint64{}, changed: make(chan struct{}),
		cache: map[string]rendered{}, live: live, plan: p, started: now, spark: map[string][]*float64{},
		compiled: map[string]criteria.Criterion{}}
	if p != nil {
		if cs, err := criteria.Compile(p.Criteria); err == nil {
			for _, c := range cs {
				r.compiled[c.Name] = c
			}
		}
	}
	r.touchLocked(sections...)
	return r
}

// touchLocked records a change of the given sections (r.mu held).
func (r *run) touchLocked(secs ...string) {
	r.seq++
	for _, s := range secs {
		r.versions[s] = r.seq
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// wait returns the channel closed at the next change.
func (r *run) wait() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

func (r *run) setState(s change.State, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setStateLocked(s, at, "")
}

// setStateLocked enters s. A state already entered (the Observer reports
// a state before the audit log's line for it is read) only gains the
// log's reason: a run never enters a state twice.
func (r *run) setStateLocked(s change.State, at time.Time, reason string) {
	for i := range r.states {
		if r.states[i].State == string(s) {
			if reason != "" && r.states[i].Reason == "" {
				r.states[i].Reason = reason
				r.touchLocked(secStates)
			}
			return
		}
	}
	if n := len(r.states); n > 0 {
		r.states[n-1].Left = at
	}
	r.states = append(r.states, StateStep{State: string(s), Entered: at, Reason: reason})
	r.state, r.stateSince = s, at
	r.terminal = s.Terminal()
	switch s {
	case change.StateApplying:
		r.marks = append(r.marks, chart.Mark{T: at, Label: "apply", Kind: chart.MarkApply})
	case change.StateRollingBack:
		r.marks = append(r.marks, chart.Mark{T: at, Label: "rollback", Kind: chart.MarkRollback})
	case change.StateLoadTest:
		r.marks = append(r.marks, chart.Mark{T: at, Label: "load test", Kind: chart.MarkOther})
	case change.StateSoak:
		r.marks = append(r.marks, chart.Mark{T: at, Label: "soak", Kind: chart.MarkOther})
	}
	r.touchLocked(secHead, secStates, secCharts, secControl)
}

// evaluation records one evaluation of the criteria.
func (r *run) evaluation(ev criteria.Evaluation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]CriterionView, 0, len(ev.Results))
	for _, res := range ev.Results {
		cv := CriterionView{Name: res.Name, Description: res.Description, Role: res.Role, Class: res.Class, Expr: res.Expr,
			Instance: res.Instance, Value: res.Value, Threshold: res.Threshold, State: string(res.State),
			HeldS: res.HeldS, LeftS: res.LeftS, ForS: res.ForS, Reason: res.Reason}
		if c, ok := r.compiled[res.Name]; ok {
			cv.Metric, cv.Op = c.Key(), string(c.Parsed.Op)
		} else if e, err := criteria.ParseExpr(res.Expr); err == nil {
			cv.Metric, cv.Op = e.Metric, string(e.Op)
		}
		sp := append(r.spark[res.Name], res.Value)
		if len(sp) > sparkPoints {
			sp = sp[len(sp)-sparkPoints:]
		}
		r.spark[res.Name] = sp
		out = append(out, cv)
	}
	r.criteria = out
	r.touchLocked(secCriteria)
}

// addSample appends a fleet sample (from the Hub's /healthz reads).
func (r *run) addSample(s evidence.Sample, inst []InstanceView) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, s)
	if over := len(r.samples) - maxSamples; over > 0 {
		r.samples = append([]evidence.Sample(nil), r.samples[over:]...)
	}
	r.instances = inst
	r.touchLocked(secCharts, secInstances)
}

// addLines appends audit lines to the timeline (and state changes the
// Observer did not report, with their reasons).
func (r *run) addLines(lines []evidence.Line) {
	if len(lines) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	secs := []string{secHead}
	for _, l := range lines {
		if l.Event == evidence.EventRunOpened {
			r.dec = evidence.NewDecoder([]evidence.Line{l})
		}
		if e, ok := entryOf(r.dec, l); ok {
			r.seq++
			e.hubSeq = r.seq
			r.timeline = append(r.timeline, e)
		}
		switch l.Event {
		case evidence.EventStateChange:
			if sc, ok := stateChangeOf(r.dec, l); ok {
				r.setStateLocked(change.State(sc.To), l.Time, sc.Reason)
			}
		case evidence.EventCriterionFired:
			r.marks = append(r.marks, chart.Mark{T: l.Time, Label: "fired: " + firedName(r.dec, l), Kind: chart.MarkFired})
			secs = append(secs, secCharts)
		case evidence.EventFileWritten:
			if r.fileWrittenLocked(l) == evidence.FileSteps {
				r.stepsWrittenLocked()
				secs = append(secs, secStates)
			}
			secs = append(secs, secEvidence)
		case evidence.EventStep:
			if r.stepStartedLocked(l) {
				secs = append(secs, secStates)
			}
		}
	}
	if over := len(r.timeline) - maxTimeline; over > 0 {
		r.timeline = append([]Entry(nil), r.timeline[over:]...)
	}
	r.touchLocked(secs...)
}

// fileWrittenLocked adds or updates a file of the live run's list and
// returns its name ("" when the line is unreadable).
func (r *run) fileWrittenLocked(l evidence.Line) string {
	var fw evidence.FileWritten
	if json.Unmarshal(l.Data, &fw) != nil || fw.Name == "" {
		return ""
	}
	for i := range r.files {
		if r.files[i].Name == fw.Name {
			r.files[i].Size = fw.Size
			return fw.Name
		}
	}
	r.files = append(r.files, FileView{Name: fw.Name, Size: fw.Size, OK: true})
	return fw.Name
}
