package evidence

// Audit events. The controller may record others; these are the ones the
// evidence package, the report and the dashboard understand.
const (
	EventRunOpened        = "run_opened"        // data: RunOpened
	EventRunResumed       = "run_resumed"       // data: RunResumed
	EventRunClosed        = "run_closed"        // data: {}
	EventPlanLoaded       = "plan_loaded"       // data: {name, sha256}
	EventApprovalRecorded = "approval_recorded" // data: Approval
	EventChecklistItem    = "checklist_item"    // data: ChecklistItem
	EventStateChange      = "state_change"      // data: StateChange
	EventApply            = "apply"             // data: Apply
	EventVerify           = "verify"            // data: VerifyCheck
	EventCriterionFired   = "criterion_fired"   // data: CriterionFired
	EventIncident         = "incident"          // data: Incident
	EventRollback         = "rollback"          // data: Rollback
	EventFileWritten      = "file_written"      // data: FileWritten
	EventFileRecovered    = "file_recovered"    // data: FileWritten (found on disk after a crash)
	EventNote             = "note"              // data: Note
)

// DefaultActor is the actor of events recorded by poolpilot itself.
const DefaultActor = "poolpilot"

// RunOpened is the data of the first line of every audit log.
type RunOpened struct {
	Plan  string `json:"plan"`
	RunID string `json:"run_id"`
	// PoolpilotVersion is the version of the poolpilot that opened the
	// run (absent in folders from before it was recorded).
	PoolpilotVersion string `json:"poolpilot_version,omitempty"`
}

// RunResumed records that a run was reopened after a crash.
type RunResumed struct {
	AfterSeq uint64 `json:"after_seq"`
	// TornLine describes the incomplete last line that was cut off, if any.
	TornLine *TornLine `json:"torn_line,omitempty"`
	// RemovedTemp lists temporary files of interrupted writes that were
	// deleted.
	RemovedTemp []string `json:"removed_temp,omitempty"`
}

// TornLine is an incomplete final audit line found (and cut off) by Resume.
type TornLine struct {
	Line   int    `json:"line"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// StateChange is a transition of the change controller's state machine.
type StateChange struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
	// State is accepted as a synonym of To (the controller's first form).
	State string `json:"state,omitempty"`
}

// Target is the state entered: To, or State when To is empty.
func (s StateChange) Target() string {
	if s.To != "" {
		return s.To
	}
	return s.State
}

// Apply records a configuration change applied to one instance (also used
// for the restore during a rollback, with Rollback true).
type Apply struct {
	Instance string `json:"instance"`
	Driver   string `json:"driver,omitempty"`
	FromMax  int    `json:"from_max"`
	FromMin  int    `json:"from_min"`
	ToMax    int    `json:"to_max"`
	ToMin    int    `json:"to_min"`
	Rollback bool   `json:"rollback,omitempty"`
	Error    string `json:"error,omitempty"`
	// Max and Min are accepted as synonyms of ToMax and ToMin.
	Max int `json:"max,omitempty"`
	Min int `json:"min,omitempty"`
}

// Target returns the max and min applied.
func (a Apply) Target() (max, min int) {
	if a.ToMax == 0 && a.ToMin == 0 {
		return a.Max, a.Min
	}
	return a.ToMax, a.ToMin
}

// VerifyCheck records a check that an instance reports the expected config.
type VerifyCheck struct {
	Instance string `json:"instance"`
	Max      int    `json:"max"`
	Min      int    `json:"min"`
	OK       bool   `json:"ok"`
	Detail   string `json:"detail,omitempty"`
}

// CriterionFired records a success criterion that failed or a rollback
// trigger that fired.
type CriterionFired struct {
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	Class     string   `json:"class,omitempty"`
	Expr      string   `json:"expr,omitempty"`
	Value     *float64 `json:"value,omitempty"`
	Threshold *float64 `json:"threshold,omitempty"`
	HeldFor   string   `json:"held_for,omitempty"`
	Instance  string   `json:"instance,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Phase     string   `json:"phase,omitempty"`
	// Criterion is accepted as a synonym of Name.
	Criterion string `json:"criterion,omitempty"`
}

// CriterionName is Name, or Criterion when Name is empty.
func (c CriterionFired) CriterionName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Criterion
}

// Incident is a P0 or P1 incident observed during the run.
type Incident struct {
	Class  string `json:"class"`
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
}

// Rollback records the decision to roll back, and why.
type Rollback struct {
	Reason    string `json:"reason"`
	Trigger   string `json:"trigger,omitempty"`
	Automatic bool   `json:"automatic"`
	// Instances is how many instances are restored, to ToMax and ToMin.
	Instances int `json:"instances,omitempty"`
	ToMax     int `json:"to_max,omitempty"`
	ToMin     int `json:"to_min,omitempty"`
}

// FileWritten records a file written to the folder and its digest.
type FileWritten struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Logged is the digest the log held before, for file_recovered.
	Logged string `json:"logged_sha256,omitempty"`
}

// Note is free text for the execution log.
type Note struct {
	Text string `json:"text"`
}
