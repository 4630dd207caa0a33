package evidence

// RunClosed is the data of the last line of a closed audit log.
type RunClosed struct{}

// PlanLoaded records the plan a run executes, by its digest.
type PlanLoaded struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Resumed records the state a run was resumed in (the controller's view;
// run_resumed is the folder's).
type Resumed struct {
	State string `json:"state"`
}

// ApplyFailed records a driver that could not apply a size to an instance.
type ApplyFailed struct {
	Instance string `json:"instance"`
	Driver   string `json:"driver,omitempty"`
	ToMax    int    `json:"to_max"`
	ToMin    int    `json:"to_min"`
	Error    string `json:"error"`
}

// VerifyBackends compares the database's client backends of one
// application with its instances' pools (or says they were not read).
// Backends, PoolTotal and Min are nil when the backends were not read.
type VerifyBackends struct {
	AppName   string   `json:"application_name,omitempty"`
	Instances []string `json:"instances,omitempty"`
	Backends  *int     `json:"backends,omitempty"`
	PoolTotal *int     `json:"pool_total,omitempty"`
	Min       *int     `json:"min,omitempty"`
	OK        bool     `json:"ok"`
	Error     string   `json:"error,omitempty"`
	Note      string   `json:"note,omitempty"`
}

// Step records the start ("start") or the end ("done") of one step of a
// staircase change.
type Step struct {
	Index   int    `json:"index"`
	Max     int    `json:"max"`
	Min     int    `json:"min"`
	Phase   string `json:"phase"`
	Verdict string `json:"verdict,omitempty"`
	Why     string `json:"why,omitempty"`
}

// StepSettle records the step a staircase settles at.
type StepSettle struct {
	Index int    `json:"index"`
	Max   int    `json:"max"`
	Min   int    `json:"min"`
	Why   string `json:"why,omitempty"`
}

// CriterionSkipped records an optional criterion no source can feed.
type CriterionSkipped struct {
	Name     string `json:"name"`
	Metric   string `json:"metric"`
	Reason   string `json:"reason"`
	Optional bool   `json:"optional"`
}

// RollbackNotNeeded records an instance the driver could not reach during
// a rollback but which reports the size restored (Max, Min).
type RollbackNotNeeded struct {
	Instance    string `json:"instance"`
	Max         int    `json:"max"`
	Min         int    `json:"min"`
	DriverError string `json:"driver_error"`
}

// RollbackRequested records an operator's manual rollback, of a live run
// (poolpilot rollback while it runs) or not.
type RollbackRequested struct {
	By      string `json:"by"`
	Reason  string `json:"reason"`
	LiveRun bool   `json:"live_run"`
}

// Interrupted records the operator's answer to Ctrl-C.
type Interrupted struct {
	Choice      string `json:"choice"`
	Interactive bool   `json:"interactive"`
}

// WindowOverride records a run started outside its change window.
type WindowOverride struct {
	Window string `json:"window"`
	Now    string `json:"now"`
	Reason string `json:"reason"`
}

// Notified records a notification sent.
type Notified struct {
	Event string `json:"event"`
}

// NotifyFailed records a notification that could not be sent.
type NotifyFailed struct {
	Event string `json:"event"`
	Error string `json:"error"`
}

// Paged records a PagerDuty event sent (trigger or resolve).
type Paged struct {
	Action   string `json:"action"`
	DedupKey string `json:"dedup_key"`
	Class    string `json:"class,omitempty"`
	Severity string `json:"severity,omitempty"`
}

// PageFailed records a PagerDuty event that could not be sent.
type PageFailed struct {
	Action   string `json:"action"`
	DedupKey string `json:"dedup_key"`
	Error    string `json:"error"`
}

// FileRecovered is a file found on disk after a crash, with the digest
// the log held before (Logged).
type FileRecovered FileWritten

// EventName methods: each type names its event.

func (RunOpened) EventName() string         { return EventRunOpened }
func (RunResumed) EventName() string        { return EventRunResumed }
func (RunClosed) EventName() string         { return EventRunClosed }
func (PlanLoaded) EventName() string        { return EventPlanLoaded }
func (Approval) EventName() string          { return EventApprovalRecorded }
func (ChecklistItem) EventName() string     { return EventChecklistItem }
func (StateChange) EventName() string       { return EventStateChange }
func (Resumed) EventName() string           { return EventResumed }
func (Apply) EventName() string             { return EventApply }
func (ApplyFailed) EventName() string       { return EventApplyFailed }
func (VerifyCheck) EventName() string       { return EventVerify }
func (VerifyBackends) EventName() string    { return EventVerifyBackends }
func (Step) EventName() string              { return EventStep }
func (StepSettle) EventName() string        { return EventStepSettle }
func (CriterionFired) EventName() string    { return EventCriterionFired }
func (CriterionSkipped) EventName() string  { return EventCriterionSkipped }
func (Incident) EventName() string          { return EventIncident }
func (Rollback) EventName() string          { return EventRollback }
func (RollbackNotNeeded) EventName() string { return EventRollbackNotNeeded }
func (RollbackRequested) EventName() string { return EventRollbackRequested }
func (Interrupted) EventName() string       { return EventInterrupted }
func (WindowOverride) EventName() string    { return EventWindowOverride }
func (Notified) EventName() string          { return EventNotified }
func (NotifyFailed) EventName() string      { return EventNotifyFailed }
func (Paged) EventName() string             { return EventPaged }
func (PageFailed) EventName() string        { return EventPageFailed }
func (FileWritten) EventName() string       { return EventFileWritten }
func (FileRecovered) EventName() string     { return EventFileRecovered }
func (Note) EventName() string              { return EventNote }
