package dashboard

import (
	"encoding/json"
	"net/url"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
)

// View is a run as the page and GET /api/runs/{id} show it.
type View struct {
	ID       string    `json:"id"`
	Plan     string    `json:"plan"`
	Live     bool      `json:"live"`     // fed by a run in this process
	State    string    `json:"state"`    // the current (or final) state
	Since    time.Time `json:"since"`    // when it was entered
	Terminal bool      `json:"terminal"` // the run has ended
	Reason   string    `json:"reason,omitempty"`
	Verdict  string    `json:"verdict,omitempty"` // finished runs: the report's verdict
	Tone     string    `json:"tone,omitempty"`    // ok, warn or fail
	Summary  string    `json:"summary,omitempty"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended,omitzero"`
	Now      time.Time `json:"now"`
	// Seq is the id of the newest change (SSE event ids end with it).
	Seq       uint64            `json:"seq"`
	PlanInfo  *PlanInfo         `json:"plan_info,omitempty"`
	States    []StateStep       `json:"states"`
	Criteria  []CriterionView   `json:"criteria"`
	Samples   []evidence.Sample `json:"samples"`
	Instances []InstanceView    `json:"instances"`
	Timeline  []Entry           `json:"timeline"`
	Files     []FileView        `json:"files"`
	Verify    *VerifyView       `json:"verify,omitempty"`
	// Steps are a staircase change's steps (steps.json) and the step
	// watched now; nil for a change without steps.
	Steps *StepsView `json:"steps,omitempty"`
	// Rollback says whether POST /api/runs/{id}/rollback can act, and why not.
	Rollback RollbackView `json:"rollback"`

	spark map[string][]*float64
	marks []markView
	dir   string
}

// PlanInfo is the plan's summary.
type PlanInfo struct {
	Name        string        `json:"name"`
	FromMax     int           `json:"from_max"`
	FromMin     int           `json:"from_min"`
	ToMax       int           `json:"to_max"`
	ToMin       int           `json:"to_min"`
	Driver      string        `json:"driver"`
	Instances   []string      `json:"instances"`
	Window      string        `json:"window,omitempty"`
	Baseline    time.Duration `json:"baseline_ns"`
	LoadTest    time.Duration `json:"load_test_ns"`
	LoadRate    float64       `json:"load_rate"`
	Soak        time.Duration `json:"soak_ns"`
	Interval    time.Duration `json:"interval_ns"`
	SHA256      string        `json:"sha256,omitempty"`
	Description string        `json:"description,omitempty"`
}

// StateStep is one state the run entered.
type StateStep struct {
	State   string    `json:"state"`
	Entered time.Time `json:"entered"`
	Left    time.Time `json:"left,omitzero"`
	Reason  string    `json:"reason,omitempty"`
}

// CriterionView is a criterion at the latest evaluation (live) or its
// final verdict (finished runs).
type CriterionView struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Role        string   `json:"role"`
	Class       string   `json:"class,omitempty"`
	Expr        string   `json:"expr"`
	Metric      string   `json:"metric,omitempty"`
	Op          string   `json:"op,omitempty"`
	Instance    string   `json:"instance,omitempty"`
	Value       *float64 `json:"value"`
	Threshold   *float64 `json:"threshold"`
	State       string   `json:"state"` // ok, pending, firing, inconclusive
	HeldS       float64  `json:"held_s"`
	LeftS       float64  `json:"left_s"` // time to fire, when pending
	ForS        float64  `json:"for_s"`
	Reason      string   `json:"reason,omitempty"`
	Verdict     string   `json:"verdict,omitempty"` // finished runs: pass, fail, inconclusive
}

// InstanceView is one instance's pool configuration and health.
type InstanceView struct {
	Name         string   `json:"name"`
	Host         string   `json:"host"`
	Status       string   `json:"status"` // ok, unavailable, unreachable, or the snapshot's
	Error        string   `json:"error,omitempty"`
	Max          int      `json:"max"`
	Min          int      `json:"min"`
	MaxSource    string   `json:"max_source,omitempty"`
	MinSource    string   `json:"min_source,omitempty"`
	Total        *int     `json:"total,omitempty"`
	Acquired     *int     `json:"acquired,omitempty"`
	Idle         *int     `json:"idle,omitempty"`
	Waiting      *int     `json:"waiting,omitempty"`
	Utilization  *float64 `json:"utilization,omitempty"`
	WaitP95MS    *float64 `json:"wait_p95_ms,omitempty"`
	ErrorRate    *float64 `json:"error_rate,omitempty"`
	LatencyP95MS *float64 `json:"latency_p95_ms,omitempty"`
	Matches      *bool    `json:"matches,omitempty"` // finished runs: matches the expected config
}

// Entry is one audit event of the timeline.
type Entry struct {
	Seq   uint64    `json:"seq"`
	Time  time.Time `json:"time"`
	Actor string    `json:"actor"`
	Event string    `json:"event"`
	Text  string    `json:"text"`

	hubSeq uint64
}

// FileView is one evidence file.
type FileView struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	OK   bool   `json:"ok"` // matches the audit log's digest
}

// VerifyView is evidence.Verify's result in short.
type VerifyView struct {
	OK      bool   `json:"ok"`
	Closed  bool   `json:"closed"`
	Signed  bool   `json:"signed"`
	Head    string `json:"head,omitempty"`
	Lines   int    `json:"lines"`
	Problem string `json:"problem,omitempty"`
}

// RollbackView says whether the page offers the rollback form.
type RollbackView struct {
	Enabled   bool      `json:"enabled"`
	Why       string    `json:"why,omitempty"`
	Requested time.Time `json:"requested,omitzero"`
}

type markView struct {
	T     time.Time
	Label string
	Kind  string
}

// view copies the run's data (r.mu held by the caller or not shared).
func (r *run) viewLocked(now time.Time) *View {
	v := &View{ID: r.id, Live: r.live, State: string(r.state), Since: r.stateSince, Terminal: r.terminal, Reason: r.reason,
		Verdict: r.verdict, Tone: r.tone, Summary: r.summary, Started: r.started, Ended: r.ended, Now: now, Seq: r.seq,
		States: append([]StateStep{}, r.states...), Criteria: append([]CriterionView{}, r.criteria...),
		Samples: append([]evidence.Sample{}, r.samples...), Instances: append([]InstanceView{}, r.instances...),
		Timeline: append([]Entry{}, r.timeline...), Files: append([]FileView{}, r.files...), Verify: r.verify,
		Steps: copySteps(r.steps), spark: map[string][]*float64{}, dir: r.dir}
	for k, s := range r.spark {
		v.spark[k] = append([]*float64(nil), s...)
	}
	for _, m := range r.marks {
		v.marks = append(v.marks, markView{m.T, m.Label, m.Kind})
	}
	v.Plan, v.PlanInfo = r.planName, r.planInfo
	if r.plan != nil {
		v.Plan, v.PlanInfo = r.plan.Name, planInfo(r)
	}
	if !r.rollbackAt.IsZero() {
		v.Rollback.Requested = r.rollbackAt
	}
	return v
}

func planInfo(r *run) *PlanInfo {
	p := r.plan
	pi := &PlanInfo{Name: p.Name, FromMax: p.Change.From.Max, FromMin: p.Change.From.Min, ToMax: p.Change.To.Max,
		ToMin: p.Change.To.Min, Driver: p.Driver, Baseline: p.Baseline.Duration.D(), LoadTest: p.LoadTest.Duration.D(),
		LoadRate: p.LoadTest.Rate, Soak: p.Soak.Duration.D(), Interval: p.Evaluation.Interval.D(), SHA256: p.SHA256(),
		Description: p.Description}
	if p.Window.String() != "" {
		pi.Window = p.Window.String()
	}
	for _, in := range p.Instances {
		pi.Instances = append(pi.Instances, in.Name+" ("+hostOf(in.HealthURL)+")")
	}
	return pi
}

// hostOf is the host:port of a URL, never its user info, path or query.
func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return "?"
}

// entryOf describes an audit line for the timeline (false for lines the
// timeline leaves out: the execution log's rewrites).
func entryOf(dec evidence.Decoder, l evidence.Line) (Entry, bool) {
	if l.Event == evidence.EventFileWritten {
		var fw evidence.FileWritten
		if json.Unmarshal(l.Data, &fw) == nil && fw.Name == evidence.FileExecutionLog {
			return Entry{}, false
		}
	}
	return Entry{Seq: l.Seq, Time: l.Time, Actor: l.Actor, Event: l.Event, Text: dec.Describe(l)}, true
}

func stateChangeOf(dec evidence.Decoder, l evidence.Line) (evidence.StateChange, bool) {
	sc, err := dec.StateChange(l)
	return sc, err == nil
}

func firedName(dec evidence.Decoder, l evidence.Line) string {
	cf, _ := dec.CriterionFired(l)
	return cf.Name
}

// plannedDuration is how long a timed state lasts by the plan (0: not timed).
func (pi *PlanInfo) plannedDuration(s string) time.Duration {
	if pi == nil {
		return 0
	}
	switch change.State(s) {
	case change.StateBaseline:
		return pi.Baseline
	case change.StateLoadTest:
		return pi.LoadTest
	case change.StateSoak:
		return pi.Soak
	}
	return 0
}
