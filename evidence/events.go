package evidence

// Audit events. Each event's data is one Go type, which names its event
// (Event); a writer records a value of it (Folder.Record), never a name and
// a map. The readers of this package, the report and the dashboard read
// the data through a Decoder, which knows the audit schema of the log.
const (
	EventRunOpened         = "run_opened"          // RunOpened
	EventRunResumed        = "run_resumed"         // RunResumed
	EventRunClosed         = "run_closed"          // RunClosed
	EventPlanLoaded        = "plan_loaded"         // PlanLoaded
	EventApprovalRecorded  = "approval_recorded"   // Approval
	EventChecklistItem     = "checklist_item"      // ChecklistItem
	EventStateChange       = "state_change"        // StateChange
	EventResumed           = "resumed"             // Resumed
	EventApply             = "apply"               // Apply
	EventApplyFailed       = "apply_failed"        // ApplyFailed
	EventVerify            = "verify"              // VerifyCheck
	EventVerifyBackends    = "verify_backends"     // VerifyBackends
	EventStep              = "step"                // Step
	EventStepSettle        = "step_settle"         // StepSettle
	EventCriterionFired    = "criterion_fired"     // CriterionFired
	EventCriterionSkipped  = "criterion_skipped"   // CriterionSkipped
	EventIncident          = "incident"            // Incident
	EventRollback          = "rollback"            // Rollback
	EventRollbackNotNeeded = "rollback_not_needed" // RollbackNotNeeded
	EventRollbackRequested = "rollback_requested"  // RollbackRequested
	EventInterrupted       = "interrupted"         // Interrupted
	EventWindowOverride    = "window_override"     // WindowOverride
	EventNotified          = "notified"            // Notified
	EventNotifyFailed      = "notify_failed"       // NotifyFailed
	EventPaged             = "paged"               // Paged
	EventPageFailed        = "page_failed"         // PageFailed
	EventFileWritten       = "file_written"        // FileWritten
	EventFileRecovered     = "file_recovered"      // FileRecovered (found on disk after a crash)
	EventNote              = "note"                // Note
)

// Event is the data of one audit event; EventName is its event.
type Event interface {
	EventName() string
}

// AuditSchema is the version of the audit events' shapes that this
// poolpilot writes, recorded in run_opened. Schema 1 (run_opened without a
// schema) is the logs written before it: their state_change may carry
// state instead of from/to, their apply max/min instead of to_max/to_min,
// their criterion_fired criterion instead of name. Schema 2 writes one
// shape per event; a Decoder reads the old shapes in schema 1 logs only.
const AuditSchema = 2

// DefaultActor is the actor of events recorded by poolpilot itself.
const DefaultActor = "poolpilot"

// RunOpened is the data of the first line of every audit log.
type RunOpened struct {
	Plan  string `json:"plan"`
	RunID string `json:"run_id"`
	// PoolpilotVersion is the version of the poolpilot that opened the
	// run (absent in folders from before it was recorded).
	PoolpilotVersion string `json:"poolpilot_version,omitempty"`
	// Schema is the audit schema of the log (AuditSchema); absent in
	// folders from before it was recorded, which are schema 1.
	Schema int `json:"schema,omitempty"`
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

// StateChange is a transition of the change controller's state machine:
// the audit projection of the journal's state record (change.Transition).
type StateChange struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
}

// Apply records a configuration change applied to one instance (also used
// for the restore during a rollback, with Rollback true).
type Apply struct {
	Instance string `json:"instance"`
	Driver   string `json:"driver,omitempty"`
	FromMax  int    `json:"from_max,omitempty"` // 0: not known
	FromMin  int    `json:"from_min,omitempty"`
	ToMax    int    `json:"to_max"`
	ToMin    int    `json:"to_min"`
	Rollback bool   `json:"rollback,omitempty"`
	Error    string `json:"error,omitempty"`
}

// VerifyCheck records a check that an instance reports the expected config.
type VerifyCheck struct {
	Instance string `json:"instance"`
	Max      int    `json:"max"`
	Min      int    `json:"min"`
	// PoolTotal is the connections the instance reported open.
	PoolTotal int    `json:"pool_total,omitempty"`
	OK        bool   `json:"ok"`
	Detail    string `json:"detail,omitempty"`
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
	// Client is poolpilot's own requests, when the note is about them.
	Client []ClientInstance `json:"client,omitempty"`
}
