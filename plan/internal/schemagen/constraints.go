package schemagen

import (
	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
)

type obj = map[string]any

var envVar = obj{"pattern": plan.EnvVarPattern}

// required lists, per type, the fields a plan must give.
var required = map[string][]string{
	"Plan":          {"version", "name", "instances", "change", "soak", "criteria"},
	"Instance":      {"name", "health_url"},
	"Change":        {"from", "to"},
	"PoolSize":      {"max"},
	"Soak":          {"duration"},
	"CriterionSpec": {"name", "expr", "role"},
	"CheckItem":     {"id", "description"},
	"Approver":      {"name", "public_key"},
	"Step":          {"max"},
	"AutoSteps":     {"auto"},
}

// constraints are the checks and defaults of the plan package, per
// "Type.yaml_name", merged into each field's schema.
var constraints = map[string]obj{
	"Plan.version":                     {"const": plan.Version},
	"Plan.name":                        {"pattern": plan.NamePattern},
	"Plan.driver":                      {"enum": []string{plan.DriverAdmin, plan.DriverRestart, plan.DriverKube}, "default": plan.DriverAdmin},
	"Plan.instances":                   {"minItems": 1},
	"Plan.criteria":                    {"minItems": 1},
	"Database.dsn_env":                 {"pattern": plan.EnvVarPattern, "default": plan.DefaultDSNEnv},
	"Database.pgbouncer_admin_dsn_env": envVar,
	"Database.other_clients":           {"minimum": 0},
	"Database.pooler_max_clients":      {"minimum": 0},
	"Instance.name":                    {"pattern": plan.NamePattern},
	"Instance.health_url":              {"format": "uri", "pattern": "^https?://"},
	"Instance.admin_url":               {"format": "uri", "pattern": "^https?://"},
	"Instance.admin_token_env":         envVar,
	"Instance.restart_command":         {"minItems": 1},
	"Instance.kube":                    {"pattern": "^kube://"},
	"Instance.processes":               {"minimum": 1, "default": 1},
	"PoolSize.max":                     {"minimum": 1, "maximum": plan.MaxPoolSize},
	"PoolSize.min":                     {"minimum": 0, "maximum": plan.MaxPoolSize},
	"Rollout.batch_size":               {"minimum": 1, "default": plan.DefaultBatchSize},
	"Rollout.surge":                    {"minimum": 0},
	"Rollout.max_instances":            {"minimum": 0},
	"Rollout.verify_timeout":           {"default": dur(plan.DefaultVerifyTimeout)},
	"Window.start":                     {"pattern": plan.ClockPattern},
	"Window.end":                       {"pattern": plan.ClockPattern},
	"Window.timezone":                  {"default": "UTC"},
	"Approvals.required":               {"minimum": 0, "maximum": 10},
	"CheckItem.id":                     {"pattern": plan.NamePattern},
	"Backup.check":                     {"enum": []string{"pg_stat_archiver", "command", "skip"}, "default": "pg_stat_archiver"},
	"Backup.max_age":                   {"default": dur(plan.DefaultBackupMaxAge)},
	"Baseline.duration":                {"default": dur(plan.DefaultBaseline)},
	"LoadTest.workload":                {"enum": []string{"ledger", "http", "select1", "none"}, "default": "none"},
	"LoadTest.url":                     {"format": "uri", "pattern": "^https?://"},
	"LoadTest.rate":                    {"minimum": 0},
	"LoadTest.max_inflight":            {"minimum": 0},
	"Soak.rate":                        {"minimum": 0},
	"Evaluation.interval":              {"default": dur(plan.DefaultInterval)},
	"Evaluation.min_coverage":          {"exclusiveMinimum": 0, "maximum": 1, "default": plan.DefaultMinCoverage},
	"CriterionSpec.name":               {"pattern": plan.NamePattern},
	"CriterionSpec.role":               {"enum": []string{poolpilot.RoleSuccess, poolpilot.RoleRollback}},
	"CriterionSpec.class":              {"enum": []string{"", poolpilot.ClassP0, poolpilot.ClassP1}},
	"CriterionSpec.scope":              {"enum": []string{poolpilot.ScopeInstance, poolpilot.ScopeFleet}, "default": poolpilot.ScopeInstance},
	"CriterionSpec.aggregate":          {"enum": []string{"", "max", "min", "avg", "sum"}},
	"Prometheus.url":                   {"format": "uri", "pattern": "^https?://"},
	"Prometheus.bearer_token_env":      envVar,
	"Prometheus.username_env":          envVar,
	"Prometheus.password_env":          envVar,
	"Prometheus.headers_env":           {"propertyNames": obj{"pattern": plan.HeaderPattern}, "additionalProperties": obj{"type": "string", "pattern": plan.EnvVarPattern}},
	"Notify.webhook_env":               envVar,
	"AutoSteps.auto":                   {"const": true},
	"Step.max":                         {"minimum": 1, "maximum": plan.MaxPoolSize},
	"Step.min":                         {"minimum": 0, "maximum": plan.MaxPoolSize},
	"StepPolicy.soak":                  {"description": "How long each step's criteria are watched (watched time); default a tenth of soak.duration."},
	"StopWhen.p95_increase":            {"exclusiveMinimum": 0, "maximum": 100, "default": plan.DefaultP95Increase},
	"StopWhen.throughput_drop":         {"exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": plan.DefaultThroughputDrop},
	"Evidence.dir":                     {"default": plan.DefaultEvidenceDir},
}

func dur(d interface{ String() string }) string { return d.String() }
