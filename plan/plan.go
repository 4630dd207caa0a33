package plan

import (
	"strings"

	"github.com/poolpilot/poolpilot"
)

// Version is the plan schema version this package reads and writes.
const Version = 1

// Drivers that apply a change.
const (
	DriverAdmin   = "admin"   // live resize through PUT /admin/pool
	DriverRestart = "restart" // rewrite an env file and run a restart command
	DriverKube    = "kube"    // patch a Kubernetes Deployment's env
)

// Plan is one pool change, end to end.
type Plan struct {
	Version     int         `yaml:"version" json:"version"`
	Name        string      `yaml:"name" json:"name"`
	Description string      `yaml:"description,omitempty" json:"description,omitempty"`
	Database    Database    `yaml:"database" json:"database"`
	Instances   []Instance  `yaml:"instances" json:"instances"`
	Change      Change      `yaml:"change" json:"change"`
	Driver      string      `yaml:"driver" json:"driver"`
	Rollout     Rollout     `yaml:"rollout,omitempty" json:"rollout"`
	Window      Window      `yaml:"window,omitempty" json:"window"`
	Approvals   Approvals   `yaml:"approvals,omitempty" json:"approvals"`
	Checklist   []CheckItem `yaml:"checklist,omitempty" json:"checklist,omitempty"`
	Backup      Backup      `yaml:"backup,omitempty" json:"backup"`
	Baseline    Baseline    `yaml:"baseline,omitempty" json:"baseline"`
	LoadTest    LoadTest    `yaml:"load_test,omitempty" json:"load_test"`
	Soak        Soak        `yaml:"soak" json:"soak"`
	// Step tunes a staircase change (change.steps): each step's soak and
	// when a step is worse than the one before.
	Step       StepPolicy                `yaml:"step,omitempty" json:"step,omitzero"`
	Evaluation Evaluation                `yaml:"evaluation,omitempty" json:"evaluation"`
	Criteria   []poolpilot.CriterionSpec `yaml:"criteria" json:"criteria"`
	// Prometheus is the server that promql criteria query, in run as in watch.
	Prometheus Prometheus `yaml:"prometheus,omitempty" json:"prometheus,omitzero"`
	// RollbackPolicy says what happens after a rollback.
	RollbackPolicy RollbackPolicy `yaml:"rollback,omitempty" json:"rollback"`
	Notify         Notify         `yaml:"notify,omitempty" json:"notify"`
	Evidence       Evidence       `yaml:"evidence,omitempty" json:"evidence"`
	// Kubeconfig is the kubeconfig file for driver kube (a path, relative
	// to the working directory, or a $KUBECONFIG-style list); empty means
	// in-cluster config, else $KUBECONFIG or ~/.kube/config.
	Kubeconfig string `yaml:"kubeconfig,omitempty" json:"kubeconfig,omitempty"`

	dir  string           // the plan file's folder (Load), for Path
	auto *AutoStepsSource // change.steps was {auto: true}: where the steps came from
}

// Database names the PostgreSQL the instances use. The DSN is read from an
// environment variable: a plan never holds a password.
type Database struct {
	DSNEnv string `yaml:"dsn_env" json:"dsn_env"`
	// OtherClients is how many connections other clients are expected to
	// hold; when 0, preflight counts what is connected now.
	OtherClients int `yaml:"other_clients,omitempty" json:"other_clients,omitempty"`
	// PgBouncerAdminDSNEnv names the variable holding the URL of
	// PgBouncer's admin console (database "pgbouncer") when the instances
	// connect through PgBouncer: preflight then checks the budget on both
	// sides of the pooler.
	PgBouncerAdminDSNEnv string `yaml:"pgbouncer_admin_dsn_env,omitempty" json:"pgbouncer_admin_dsn_env,omitempty"`
	// PgBouncerDatabase is the PgBouncer database the instances connect to;
	// default: the database named in dsn_env's URL.
	PgBouncerDatabase string `yaml:"pgbouncer_database,omitempty" json:"pgbouncer_database,omitempty"`
	// PoolerMaxClients is a pooler's client-connection limit when its
	// console cannot be read (Neon's pooled endpoint: 10000).
	PoolerMaxClients int `yaml:"pooler_max_clients,omitempty" json:"pooler_max_clients,omitempty"`
	// SizingReport is a `poolpilot size --save FILE` report (relative to
	// the plan file) that preflight compares change.to.max with.
	SizingReport string `yaml:"sizing_report,omitempty" json:"sizing_report,omitempty"`
}

// Instance is one process (or pod) of the service whose pool changes.
type Instance struct {
	Name      string `yaml:"name" json:"name"`
	HealthURL string `yaml:"health_url" json:"health_url"`
	// AdminURL is the base URL for the admin driver (PUT {admin_url}/admin/pool);
	// defaults to the health URL's origin.
	AdminURL      string `yaml:"admin_url,omitempty" json:"admin_url,omitempty"`
	AdminTokenEnv string `yaml:"admin_token_env,omitempty" json:"admin_token_env,omitempty"`
	// EnvFile and RestartCommand are for the restart driver.
	EnvFile        string   `yaml:"env_file,omitempty" json:"env_file,omitempty"`
	RestartCommand []string `yaml:"restart_command,omitempty" json:"restart_command,omitempty"`
	// Kube names the Deployment for the kube driver:
	// kube://namespace/deployment[/container].
	Kube string `yaml:"kube,omitempty" json:"kube,omitempty"`
	// Processes is how many processes of this instance each hold their own
	// pool (Node cluster, gunicorn workers); the connection budget counts
	// Processes × max for it, 1–1000; absent means 1.
	Processes int `yaml:"processes,omitempty" json:"processes,omitempty"`
}

// PoolSize is a max/min pair.
type PoolSize struct {
	Max int `yaml:"max" json:"max"`
	Min int `yaml:"min" json:"min"`
}

// Change is the pool change itself.
type Change struct {
	From PoolSize `yaml:"from" json:"from"`
	To   PoolSize `yaml:"to" json:"to"`
	// Steps, when given, make a staircase change: the pool climbs through
	// each step (a max, or {max, min}), watched for step.soak, and settles
	// at the best step seen when a step is worse; the last step is to.
	// {auto: true} takes them from database.sizing_report (see AutoSteps).
	Steps []Step `yaml:"steps,omitempty" json:"steps,omitempty"`
}

// Rollout says how the change goes out across instances.
type Rollout struct {
	// BatchSize is how many instances change at once (default 1).
	BatchSize int `yaml:"batch_size,omitempty" json:"batch_size"`
	// Surge is how many extra instances a rolling restart runs at once.
	Surge int `yaml:"surge,omitempty" json:"surge"`
	// MaxInstances is the largest instance count the service scales to
	// (autoscaling); 0 means the listed instances.
	MaxInstances int `yaml:"max_instances,omitempty" json:"max_instances"`
	// VerifyTimeout bounds how long an instance may take to show the new config.
	VerifyTimeout poolpilot.Duration `yaml:"verify_timeout,omitempty" json:"verify_timeout"`
	// RolloutTimeout bounds how long the kube driver waits for a
	// Deployment's rollout (default 10m).
	RolloutTimeout poolpilot.Duration `yaml:"rollout_timeout,omitempty" json:"rollout_timeout,omitempty"`
}

// Window is the change window, daily, in a time zone.
type Window struct {
	Start    string `yaml:"start,omitempty" json:"start,omitempty"` // "02:00"
	End      string `yaml:"end,omitempty" json:"end,omitempty"`     // "06:00"
	Timezone string `yaml:"timezone,omitempty" json:"timezone,omitempty"`
}

// Approvals says who must approve.
type Approvals struct {
	Required  int    `yaml:"required,omitempty" json:"required"`
	Statement string `yaml:"statement,omitempty" json:"statement,omitempty"`
	// Approvers, when listed, are the only people whose approvals count,
	// and each approval must carry an Ed25519 signature by the key listed
	// for its approver. Without them an approval is protected by a hash
	// only: anyone who can write the approvals file can forge one.
	Approvers []Approver `yaml:"approvers,omitempty" json:"approvers,omitempty"`
}

// Approver is a person allowed to approve, with their public key.
type Approver struct {
	Name string `yaml:"name" json:"name"`
	// PublicKey is base64 of the raw Ed25519 key (one line, as printed
	// by 'poolpilot evidence keygen') or the PEM block of the .pub file.
	PublicKey string `yaml:"public_key" json:"public_key"`
}

// Signed reports whether the plan requires signed approvals.
func (a Approvals) Signed() bool { return len(a.Approvers) > 0 }

// Approver returns the listed approver called name (case-insensitive).
func (a Approvals) Approver(name string) (Approver, bool) {
	for _, x := range a.Approvers {
		if strings.EqualFold(strings.TrimSpace(x.Name), strings.TrimSpace(name)) {
			return x, true
		}
	}
	return Approver{}, false
}

// CheckItem is a pre-launch checklist item that a person ticks.
type CheckItem struct {
	ID          string `yaml:"id" json:"id"`
	Description string `yaml:"description" json:"description"`
}

// Backup says how preflight checks backup recency.
type Backup struct {
	// Check is "pg_stat_archiver", "command" or "skip".
	Check      string             `yaml:"check,omitempty" json:"check,omitempty"`
	Command    []string           `yaml:"command,omitempty" json:"command,omitempty"`
	MaxAge     poolpilot.Duration `yaml:"max_age,omitempty" json:"max_age"`
	SkipReason string             `yaml:"skip_reason,omitempty" json:"skip_reason,omitempty"`
}

// Baseline is the pre-change measurement window.
type Baseline struct {
	Duration poolpilot.Duration `yaml:"duration,omitempty" json:"duration"`
}

// LoadTest is the synthetic load test after apply.
type LoadTest struct {
	Workload    string             `yaml:"workload,omitempty" json:"workload,omitempty"` // ledger | http | select1 | none
	URL         string             `yaml:"url,omitempty" json:"url,omitempty"`           // for workload http; default: first instance's origin
	Rate        float64            `yaml:"rate,omitempty" json:"rate"`
	Duration    poolpilot.Duration `yaml:"duration,omitempty" json:"duration"`
	MaxInflight int                `yaml:"max_inflight,omitempty" json:"max_inflight,omitempty"`
}

// Soak is the sustained monitoring after the load test.
type Soak struct {
	Duration poolpilot.Duration `yaml:"duration" json:"duration"`
	// Rate is the background load kept up during the soak (0: none).
	Rate float64 `yaml:"rate,omitempty" json:"rate,omitempty"`
}

// Evaluation tunes the criteria engine.
type Evaluation struct {
	Interval        poolpilot.Duration `yaml:"interval,omitempty" json:"interval"`
	MaxInconclusive poolpilot.Duration `yaml:"max_inconclusive,omitempty" json:"max_inconclusive"`
	// MinCoverage is the share of the soak's watched time for which every
	// success criterion must have been conclusive (default 0.9).
	MinCoverage float64 `yaml:"min_coverage,omitempty" json:"min_coverage"`
}

// RollbackPolicy is what the run does after rolling back.
type RollbackPolicy struct {
	// Monitor is how long the criteria are watched again after a rollback,
	// to record whether the service returned to its baseline
	// (post_rollback_monitoring.json). Default 15m capped at the soak's
	// duration; 0s turns it off.
	Monitor *poolpilot.Duration `yaml:"monitor,omitempty" json:"monitor,omitempty"`
}

// Prometheus is the Prometheus server (or compatible API) that promql
// criteria query. Secrets come from environment variables, never the plan.
type Prometheus struct {
	URL            string `yaml:"url,omitempty" json:"url,omitempty"`
	BearerTokenEnv string `yaml:"bearer_token_env,omitempty" json:"bearer_token_env,omitempty"`
	UsernameEnv    string `yaml:"username_env,omitempty" json:"username_env,omitempty"`
	PasswordEnv    string `yaml:"password_env,omitempty" json:"password_env,omitempty"`
	// HeadersEnv maps an HTTP header name to the variable holding its value
	// (X-Scope-OrgID: PROM_TENANT).
	HeadersEnv map[string]string `yaml:"headers_env,omitempty" json:"headers_env,omitempty"`
	// CAFile is a PEM bundle to trust for an https URL (relative to the plan).
	CAFile string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
}

// Notify configures notifications. The webhook URL is read from an
// environment variable because chat webhooks embed a secret.
type Notify struct {
	WebhookEnv string `yaml:"webhook_env,omitempty" json:"webhook_env,omitempty"`
	// PagerDutyRoutingKeyEnv names the env var holding a PagerDuty Events
	// API v2 routing key: a failed rollback or a P0 incident pages, and
	// the page resolves when the run recovers (plan/notify.go).
	PagerDutyRoutingKeyEnv string `yaml:"pagerduty_routing_key_env,omitempty" json:"pagerduty_routing_key_env,omitempty"`
	// PagerDutyURL overrides the Events API endpoint (EU region, tests).
	PagerDutyURL string `yaml:"pagerduty_url,omitempty" json:"pagerduty_url,omitempty"`
	// EventsWebhookEnv names the env var holding a URL that receives one
	// JSON event (schema poolpilot.event/1) per audit event.
	EventsWebhookEnv string `yaml:"events_webhook_env,omitempty" json:"events_webhook_env,omitempty"`
}

// Evidence says where the evidence folder goes.
type Evidence struct {
	Dir string `yaml:"dir,omitempty" json:"dir,omitempty"`
}
