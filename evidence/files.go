package evidence

import (
	"time"

	"github.com/poolpilot/poolpilot"
)

// The files of an evidence folder, with the seed's names.
const (
	// Pre-change evidence.
	FilePreChangeMetrics     = "pre_change_metrics.json"    // PreChangeMetrics
	FilePreChangeConfig      = "pre_change_config.json"     // ConfigSnapshot
	FilePreChangeConnections = "pre_change_connections.txt" // text: pg_stat_activity counts
	FilePreChangeErrorRate   = "pre_change_error_rate.txt"  // text: baseline error rate
	FilePreChangeLatency     = "pre_change_latency.json"    // LatencyReport
	// During the change.
	FileDeploymentLog = "deployment_log.txt" // text: what each driver did, per instance
	FileConfigDiff    = "config_diff.txt"    // text: unified diff of the settings
	FileRestartLog    = "restart_log.txt"    // text: restart command output per instance
	// Post-change evidence.
	FilePostChangeConfig    = "post_change_config.json"          // ConfigSnapshot
	FileSyntheticLoadTest   = "synthetic_load_test_results.json" // LoadTestResults
	FileSustainedMonitoring = "sustained_monitoring.json"        // SustainedMonitoring
	FileSteps               = "steps.json"                       // a staircase change's steps (change.StepsEvidence)
	FileErrorRateComparison = "error_rate_comparison.txt"        // text
	FileLatencyComparison   = "latency_comparison.json"          // LatencyComparison
	// The run itself.
	FilePlan         = "plan.yaml"        // the plan as run, byte for byte (redacted)
	FileApproval     = "approval.json"    // ApprovalRecord
	FileChecklist    = "checklist.json"   // Checklist
	FileExecutionLog = "EXECUTION_LOG.md" // rendered from the audit log
	FileReportMD     = "report.md"        // the post-change report, when the controller writes it
	FileReportHTML   = "report.html"
	// The audit log, its head and the head's signature: never logged
	// themselves.
	FileAudit     = "audit.jsonl"
	FileHead      = "audit.head"
	FileSignature = "audit.sig"
)

// The names of the fleet-wide series of sustained_monitoring.json (the
// fields of Sample and Aggregate). Latency and error rate keep their
// criteria-vocabulary names; the pool's drop the vocabulary's "pool."
// prefix (poolpilot.MetricPoolUtilization is pool.utilization): a
// contract of the evidence files, kept as it is.
const (
	MetricLatencyP95  = poolpilot.MetricLatencyP95
	MetricErrorRate   = poolpilot.MetricErrorRate
	MetricUtilization = "utilization" // fraction of pool max in use, 0..1
	MetricWaitP95     = "wait_p95_ms"
)

// Aggregate is the fleet-wide view of the service over a window.
type Aggregate struct {
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	ErrorRate    float64 `json:"error_rate"`
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP95MS float64 `json:"latency_p95_ms"`
	LatencyP99MS float64 `json:"latency_p99_ms"`
	Utilization  float64 `json:"utilization"`
	WaitP95MS    float64 `json:"wait_p95_ms"`
}

// InstanceHealth is one instance's /healthz document at a moment.
type InstanceHealth struct {
	Name   string           `json:"name"`
	URL    string           `json:"url"`
	Health poolpilot.Health `json:"health"`
	Error  string           `json:"error,omitempty"`
}

// DatabaseStats are server-side facts about the database at a moment.
type DatabaseStats struct {
	MaxConnections    int            `json:"max_connections"`
	SuperuserReserved int            `json:"superuser_reserved_connections"`
	Connections       int            `json:"connections"`
	ByState           map[string]int `json:"by_state,omitempty"`
	ByApplication     map[string]int `json:"by_application,omitempty"`
	CPUPercent        *float64       `json:"cpu_percent,omitempty"`
}

// PreChangeMetrics is pre_change_metrics.json: the system health snapshot
// taken over the baseline window.
type PreChangeMetrics struct {
	Time          time.Time        `json:"time"`
	WindowSeconds float64          `json:"window_seconds"`
	Fleet         Aggregate        `json:"fleet"`
	Instances     []InstanceHealth `json:"instances"`
	Database      *DatabaseStats   `json:"database,omitempty"`
}

// PoolSetting is a pool configuration as the plan and /healthz state it.
type PoolSetting struct {
	Max                 int   `json:"max"`
	Min                 int   `json:"min"`
	IdleTimeoutMS       int64 `json:"idle_timeout_ms,omitempty"`
	ConnectionTimeoutMS int64 `json:"connection_timeout_ms,omitempty"`
}

// InstanceConfig is the pool configuration one instance reports.
type InstanceConfig struct {
	Name    string                          `json:"name"`
	URL     string                          `json:"url"`
	Pool    PoolSetting                     `json:"pool"`
	Source  map[string]poolpilot.Provenance `json:"source,omitempty"`
	Matches bool                            `json:"matches"`
	Error   string                          `json:"error,omitempty"`
	// PoolTotal is the connections the pool holds (/healthz pool.total).
	PoolTotal *int `json:"pool_total,omitempty"`
}

// BackendCount compares the client backends pg_stat_activity shows for an
// application_name with what its instances' pools report holding.
type BackendCount struct {
	ApplicationName string   `json:"application_name"`
	Instances       []string `json:"instances"`
	Backends        int      `json:"backends"`
	PoolTotal       int      `json:"pool_total"`
	Min             int      `json:"min"`
	OK              bool     `json:"ok"`
	Note            string   `json:"note,omitempty"`
}

// ConfigSnapshot is pre_change_config.json and post_change_config.json: the
// configuration every instance reports, against the expected one.
type ConfigSnapshot struct {
	Time      time.Time        `json:"time"`
	Expected  PoolSetting      `json:"expected"`
	Instances []InstanceConfig `json:"instances"`
	// Verified is true when every instance matches Expected.
	Verified bool `json:"verified"`
	// Backends are verify's pg_stat_activity checks (post-change only).
	Backends []BackendCount `json:"backends,omitempty"`
}

// LatencyStats summarises request latency over a window.
type LatencyStats struct {
	Requests int64   `json:"requests"`
	P50MS    float64 `json:"p50_ms"`
	P95MS    float64 `json:"p95_ms"`
	P99MS    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms,omitempty"`
}

// LatencyReport is pre_change_latency.json: the latency baseline, fleet and
// per instance.
type LatencyReport struct {
	Time          time.Time               `json:"time"`
	WindowSeconds float64                 `json:"window_seconds"`
	Fleet         LatencyStats            `json:"fleet"`
	Instances     map[string]LatencyStats `json:"instances,omitempty"`
}

// LoadLatency is the latency block of a load test, in milliseconds.
type LoadLatency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// LoadPool is what the pool reported during a load test.
type LoadPool struct {
	WaitP95MS      float64 `json:"wait_p95_ms"`
	UtilizationMax float64 `json:"utilization_max"`
}

// LoadSecond is one second of a load test.
type LoadSecond struct {
	Second   int     `json:"second"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	P50MS    float64 `json:"p50_ms"`
	P95MS    float64 `json:"p95_ms"`
	P99MS    float64 `json:"p99_ms"`
}

// LoadTestResults is synthetic_load_test_results.json. Its field names
// follow the load generator's --json schema.
type LoadTestResults struct {
	Started         time.Time    `json:"started"`
	Ended           time.Time    `json:"ended"`
	Target          string       `json:"target"`
	Workload        string       `json:"workload,omitempty"`
	DurationSeconds float64      `json:"duration_seconds"`
	TargetRate      float64      `json:"target_rate"`
	AchievedRate    float64      `json:"achieved_rate"`
	Requests        int64        `json:"requests"`
	Errors          int64        `json:"errors"`
	ErrorRate       float64      `json:"error_rate"`
	Late            int64        `json:"late"`
	LatencyMS       LoadLatency  `json:"latency_ms"`
	LagMS           *LoadLatency `json:"lag_ms,omitempty"`
	Pool            *LoadPool    `json:"pool,omitempty"`
	Series          []LoadSecond `json:"series,omitempty"`
	// Client is what the load's requests saw of each instance.
	Client   []ClientInstance `json:"client,omitempty"`
	Passed   bool             `json:"passed"`
	Failures []string         `json:"failures,omitempty"`
}

// Criterion states, as the criteria engine reports them.
const (
	StateOK           = "ok"
	StatePending      = "pending"
	StateFiring       = "firing"
	StateInconclusive = "inconclusive"
)

// CriterionResult is one criterion's definition and its final verdict.
type CriterionResult struct {
	Name  string `json:"name"`
	Role  string `json:"role"` // poolpilot.RoleSuccess or RoleRollback
	Class string `json:"class,omitempty"`
	Expr  string `json:"expr"`
	For   string `json:"for,omitempty"`
	// Metric, Op and Threshold are Expr parsed, for charts: the threshold
	// is drawn on the chart of Metric.
	Metric    string   `json:"metric,omitempty"`
	Op        string   `json:"op,omitempty"`
	Threshold *float64 `json:"threshold,omitempty"`
	// Value is the last (or deciding) value; nil when there was no data.
	Value *float64 `json:"value,omitempty"`
	State string   `json:"state"`
	// Verdict is "pass", "fail" (a success criterion that did not hold or
	// a rollback trigger that fired) or "inconclusive".
	Verdict string `json:"verdict"`
	Detail  string `json:"detail,omitempty"`
}

// Verdicts of a criterion and of a run.
const (
	VerdictPass         = "pass"
	VerdictFail         = "fail"
	VerdictInconclusive = "inconclusive"
)

// Sample is one evaluation (normally one second) of the sustained
// monitoring. A nil value is missing data, never zero.
type Sample struct {
	Time         time.Time         `json:"time"`
	LatencyP95MS *float64          `json:"latency_p95_ms"`
	ErrorRate    *float64          `json:"error_rate"`
	Utilization  *float64          `json:"utilization"`
	WaitP95MS    *float64          `json:"wait_p95_ms"`
	States       map[string]string `json:"states,omitempty"` // criterion name → state
}

// SustainedMonitoring is sustained_monitoring.json: the per-second time
// series of the soak (and of the load test before it), the criteria and
// their verdicts.
type SustainedMonitoring struct {
	Started         time.Time         `json:"started"`
	Ended           time.Time         `json:"ended"`
	PlannedSeconds  float64           `json:"planned_seconds"`
	IntervalSeconds float64           `json:"interval_seconds"`
	Criteria        []CriterionResult `json:"criteria"`
	Samples         []Sample          `json:"samples"`
	// Summary is the fleet view over the whole soak.
	Summary *Aggregate `json:"summary,omitempty"`
	// WatchedSeconds is the soak time during which evaluations happened
	// (gaps excluded); Gaps are the stretches without one; Coverage is each
	// success criterion's conclusive share of the watched time, which must
	// reach MinCoverage.
	WatchedSeconds float64             `json:"watched_seconds,omitempty"`
	Client         []ClientInstance    `json:"client,omitempty"`
	Gaps           []WatchGap          `json:"gaps,omitempty"`
	MinCoverage    float64             `json:"min_coverage,omitempty"`
	Coverage       []CriterionCoverage `json:"coverage,omitempty"`
	Verdict        string              `json:"verdict"` // pass, fail or inconclusive
	Reason         string              `json:"reason,omitempty"`
}

// LatencyComparison is latency_comparison.json: baseline against after.
type LatencyComparison struct {
	Baseline LatencyStats `json:"baseline"`
	After    LatencyStats `json:"after"`
	// Change of each percentile, in percent of the baseline.
	DeltaP50Pct float64 `json:"delta_p50_pct"`
	DeltaP95Pct float64 `json:"delta_p95_pct"`
	DeltaP99Pct float64 `json:"delta_p99_pct"`
	// MaxRegressionPct is the allowed p95 regression; Regression is true
	// when DeltaP95Pct exceeds it.
	MaxRegressionPct float64 `json:"max_regression_pct"`
	Regression       bool    `json:"regression"`
}

// Approval is one recorded approval, bound to the plan's SHA-256.
type Approval struct {
	By         string    `json:"by"`
	Role       string    `json:"role,omitempty"`
	Statement  string    `json:"statement"`
	Time       time.Time `json:"time"`
	PlanSHA256 string    `json:"plan_sha256"`
	// Signature is the base64 Ed25519 signature of SigningBytes, when the
	// approval was signed; PublicKey the base64 raw public key.
	Signature string `json:"signature,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

// ApprovalRecord is approval.json.
type ApprovalRecord struct {
	Plan       string     `json:"plan"`
	PlanSHA256 string     `json:"plan_sha256"`
	Required   []string   `json:"required,omitempty"`
	Approvals  []Approval `json:"approvals"`
}

// ChecklistItem is one item of the pre-launch checklist.
type ChecklistItem struct {
	ID     string    `json:"id"`
	Title  string    `json:"title"`
	Kind   string    `json:"kind"`   // "auto" (checked by poolpilot) or "manual" (ticked)
	Status string    `json:"status"` // "pass", "fail", "skipped", "pending"
	By     string    `json:"by,omitempty"`
	Time   time.Time `json:"time"`
	Detail string    `json:"detail,omitempty"`
}

// Checklist is checklist.json.
type Checklist struct {
	Items  []ChecklistItem `json:"items"`
	Passed bool            `json:"passed"`
}
