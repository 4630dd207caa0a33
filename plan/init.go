package plan

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// InitOptions parameterise the seed's Phase 1 plan written by Init.
type InitOptions struct {
	Name          string
	HealthURLs    []string
	AdminTokenEnv string
	DSNEnv        string
	Driver        string
	From, To      PoolSize
	Workload      string
	LoadRate      float64
	LoadDuration  time.Duration
	Soak          time.Duration
	TriggerFor    time.Duration // the rollback triggers' sustain window (seed: 5m)
	Baseline      time.Duration
	EvidenceDir   string
	// LoadURL is the URL the load test requests; workload http needs it.
	LoadURL string
	// EnvFile and RestartCommand are for the restart driver: a
	// comma-separated list of env files, one per instance or one for all,
	// and the command line that restarts an instance. "{instance}" in
	// either is replaced by the instance's name. Empty: systemd-style
	// placeholders (/etc/ledgerd/{instance}.env, systemctl restart
	// ledgerd@{instance}).
	EnvFile        string
	RestartCommand string
	// SchemaURL is written in the yaml-language-server modeline on the
	// first line (default SchemaURL).
	SchemaURL string
}

// SchemaURL is where editors find the plan's JSON Schema (plan/plan.schema.json
// in the repository).
const SchemaURL = "https://raw.githubusercontent.com/poolpilot/poolpilot/main/plan/plan.schema.json"

// initInstance is one instance as Init writes it.
type initInstance struct {
	Name, HealthURL, EnvFile string
	RestartCommand           []string
}

// initData is what the template renders.
type initData struct {
	InitOptions
	Instances       []initInstance
	MaxInconclusive time.Duration
	RollbackMonitor time.Duration
}

// SeedInitOptions are the seed's numbers: 10:2 → 200:20, a 15-minute load
// test, a 60-minute soak, 5-minute trigger windows.
func SeedInitOptions() InitOptions {
	return InitOptions{
		Name:          "phase1_pool_scaling",
		HealthURLs:    []string{"http://127.0.0.1:8080/healthz"},
		AdminTokenEnv: "POOLPILOT_ADMIN_TOKEN",
		DSNEnv:        DefaultDSNEnv,
		Driver:        DriverAdmin,
		From:          PoolSize{Max: 10, Min: 2},
		To:            PoolSize{Max: 200, Min: 20},
		Workload:      "ledger",
		LoadRate:      50,
		LoadDuration:  15 * time.Minute,
		Soak:          60 * time.Minute,
		TriggerFor:    5 * time.Minute,
		Baseline:      time.Minute,
		EvidenceDir:   DefaultEvidenceDir,
		SchemaURL:     SchemaURL,
	}
}

// ParsePoolSize reads "MAX:MIN" as written on the command line.
func ParsePoolSize(s string) (PoolSize, error) {
	maxS, minS, ok := strings.Cut(s, ":")
	if !ok {
		return PoolSize{}, fmt.Errorf("%q must be MAX:MIN, e.g. 200:20", s)
	}
	maxV, err1 := strconv.Atoi(strings.TrimSpace(maxS))
	minV, err2 := strconv.Atoi(strings.TrimSpace(minS))
	if err1 != nil || err2 != nil {
		return PoolSize{}, fmt.Errorf("%q must be MAX:MIN with whole numbers, e.g. 200:20", s)
	}
	ps := PoolSize{Max: maxV, Min: minV}
	c := &checker{}
	c.poolSize("size", ps)
	if len(c.errs) > 0 {
		return PoolSize{}, fmt.Errorf("%q: %s", s, c.errs[0].Msg)
	}
	return ps, nil
}

// Init renders the seed's Phase 1 plan with comments. The result always
// passes Parse; Init returns an error when the options would not.
func Init(o InitOptions) ([]byte, error) {
	d, err := o.data()
	if err != nil {
		return nil, fmt.Errorf("plan init: %w", err)
	}
	var buf bytes.Buffer
	if err := initTmpl.Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("plan init: %w", err)
	}
	if _, err := Parse(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// data checks the options that the plan alone cannot and works out each
// instance's fields.
func (o InitOptions) data() (initData, error) {
	d := initData{InitOptions: o, MaxInconclusive: defaultMaxInconclusive(o.Soak), RollbackMonitor: defaultRollbackMonitor(o.Soak)}
	if d.SchemaURL == "" {
		d.SchemaURL = SchemaURL
	}
	if o.Workload == "http" && strings.TrimSpace(o.LoadURL) == "" {
		return d, fmt.Errorf("workload http needs the URL its requests go to (--url http://127.0.0.1:8080/ledger/...)")
	}
	if o.LoadURL != "" && o.Workload != "http" {
		return d, fmt.Errorf("a load test URL (--url) is for workload http (workload is %s)", o.Workload)
	}
	if (o.EnvFile != "" || o.RestartCommand != "") && o.Driver != DriverRestart {
		return d, fmt.Errorf("an env file and a restart command (--env-file, --restart-command) are for driver restart (driver is %s)", o.Driver)
	}
	envFiles := splitComma(o.EnvFile)
	if len(envFiles) == 0 {
		envFiles = []string{"/etc/ledgerd/{instance}.env"}
	}
	if len(envFiles) != 1 && len(envFiles) != len(o.HealthURLs) {
		return d, fmt.Errorf("%d env files for %d instances: give one per instance, or one for all (\"{instance}\" is replaced by each name)", len(envFiles), len(o.HealthURLs))
	}
	cmdLine := o.RestartCommand
	if strings.TrimSpace(cmdLine) == "" {
		cmdLine = "systemctl restart ledgerd@{instance}"
	}
	argv, err := SplitCommand(cmdLine)
	if err != nil {
		return d, fmt.Errorf("restart command: %w", err)
	}
	for i, u := range o.HealthURLs {
		name := fmt.Sprintf("instance-%d", i+1)
		in := initInstance{Name: name, HealthURL: u, EnvFile: strings.ReplaceAll(envFiles[min(i, len(envFiles)-1)], "{instance}", name)}
		for _, a := range argv {
			in.RestartCommand = append(in.RestartCommand, strings.ReplaceAll(a, "{instance}", name))
		}
		d.Instances = append(d.Instances, in)
	}
	return d, nil
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// SplitCommand splits a command line into arguments the way a shell
// would for plain words: spaces separate, single and double quotes group,
// a backslash escapes the next character outside single quotes. It runs
// nothing and expands nothing.
func SplitCommand(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inArg = true, true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inArg = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("%q: unterminated quote or escape", s)
	}
	if inArg {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return args, nil
}

// yamlDur writes a duration the way a person would: 1h, 5m, 30s, 1m30s.
func yamlDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

var initTmpl = template.Must(template.New("plan").Funcs(template.FuncMap{
	"dur": yamlDur,
	"q":   strconv.Quote,
}).Parse(`# yaml-language-server: $schema={{.SchemaURL}}
# poolpilot plan — the seed's Phase 1: Database Connection Pool Scaling.
# Check it:    poolpilot plan check {{.Name}}.yaml
# Approve it:  poolpilot approve {{.Name}}.yaml --by NAME --statement "I approve Phase 1 execution"
# Run it:      poolpilot run {{.Name}}.yaml
version: 1
name: {{.Name}}
description: Scale the pool from {{.From.Max}}:{{.From.Min}} to {{.To.Max}}:{{.To.Min}} (max:min) with env-var configuration, verified through /healthz.

database:
  # The DSN is read from this environment variable; a plan never holds a password.
  dsn_env: {{.DSNEnv}}
  # Behind PgBouncer: the variable holding its admin-console URL
  # (postgres://admin@pgbouncer:6432/pgbouncer); preflight then checks
  # max_client_conn and max_db_connections too (check pooler_budget).
  # pgbouncer_admin_dsn_env: PGBOUNCER_ADMIN_URL
  # pgbouncer_database: ledger          # default: the database in dsn_env's URL
  # Behind a pooler whose console cannot be read (Neon's pooled endpoint):
  # pooler_max_clients: 10000
  # A sizing report (poolpilot size --save sizing.json), relative to this
  # file: preflight warns when change.to.max is far above its recommendation.
  # sizing_report: sizing.json

# Every instance of the service whose pool changes.
instances:
{{- range .Instances}}
  - name: {{.Name}}
    health_url: {{q .HealthURL}}
    admin_token_env: {{$.AdminTokenEnv}}
{{- if eq $.Driver "restart"}}
    env_file: {{q .EnvFile}}
    restart_command: [{{range $j, $a := .RestartCommand}}{{if $j}}, {{end}}{{q $a}}{{end}}]
{{- end}}
{{- if eq $.Driver "kube"}}
    kube: kube://default/{{.Name}}   # the Deployment: kube://namespace/deployment[/container]
{{- else}}
    # driver kube: the Deployment whose env changes (one instance per Deployment)
    # kube: kube://prod/ledgerd/app
{{- end}}
    # processes: 1       # processes of this instance that each hold a pool (Node cluster, gunicorn workers)
{{- end}}

change:
  from: {max: {{.From.Max}}, min: {{.From.Min}}}   # the rollback target (the seed's DB_POOL_MAX=10, DB_POOL_MIN=2)
  to: {max: {{.To.Max}}, min: {{.To.Min}}}

# admin: live resize through PUT /admin/pool; restart: rewrite env_file and run restart_command;
# kube: patch each instance's Deployment env (a rolling restart), rollback restores the exact env.
driver: {{.Driver}}
# kubeconfig: ~/.kube/prod   # driver kube; default: in-cluster, else $KUBECONFIG or ~/.kube/config

rollout:
  batch_size: 1          # instances changed at once
  surge: 0               # extra instances during a rolling restart (counts in the connection budget)
  verify_timeout: 60s    # how long an instance may take to show the new config in /healthz
  # rollout_timeout: 10m # driver kube: how long a Deployment's rollout may take

# The seed: low-traffic period, 2-6 AM UTC. Outside it, run needs --override-window --reason.
window:
  start: "02:00"
  end: "06:00"
  timezone: UTC

# Each approval binds to this plan's SHA-256 and lets one run start. List the
# approvers' Ed25519 public keys (poolpilot evidence keygen --out NAME prints the
# line) so that only their signed approvals count (approve --signing-key NAME.key);
# without them preflight warns that an approval can be forged.
approvals:
  required: 1
  statement: I approve Phase 1 execution
  # approvers:
  #   - name: Jane Doe
  #     public_key: <base64 from poolpilot evidence keygen>

# Pre-launch checklist items a person confirms: poolpilot checklist tick ID --by NAME.
# (Database reachability, connection budget, baseline health, backup recency and
# the instances' current config are checked by preflight itself.)
checklist:
  - id: stakeholders-notified
    description: Product Lead, Business Lead, On-Call Engineer and Development Team notified
  - id: on-call-available
    description: On-call engineer available for the full duration + 2 hours
  - id: backup-restore-tested
    description: Database backup restoration tested
  - id: rollback-reviewed
    description: Rollback procedure reviewed (revert env vars, rolling restart, verify pool max, monitor 15 minutes)

backup:
  check: pg_stat_archiver   # or: command (with command: [...]), or skip (with skip_reason)
  max_age: 24h

baseline:
  duration: {{dur .Baseline}}           # pre-change evidence window

load_test:
  workload: {{.Workload}}           # ledger | http | select1 | none
{{- if .LoadURL}}
  url: {{q .LoadURL}}
{{- end}}
  rate: {{.LoadRate}}                 # requests per second, open model
  duration: {{dur .LoadDuration}}

soak:
  duration: {{dur .Soak}}           # success criterion 7: sustained without issues

evaluation:
  interval: 1s
  max_inconclusive: {{dur .MaxInconclusive}}     # missing data longer than this counts as a breach (default: the smaller of 60s and a tenth of the soak)
  min_coverage: 0.9         # every success criterion must be conclusive for this share of the soak's watched time

# After a rollback, the criteria are watched again this long to record whether
# the service returned to its baseline (post_rollback_monitoring.json); 0s: off.
rollback:
  monitor: {{dur .RollbackMonitor}}

# promql criteria query this Prometheus; secrets come from environment variables.
# prometheus:
#   url: https://prometheus.example:9090
#   bearer_token_env: PROM_TOKEN          # or username_env + password_env (basic auth)
#   headers_env: {X-Scope-OrgID: PROM_TENANT}
#   ca_file: prometheus-ca.pem            # relative to this file

# Success criteria hold when their expr is true; rollback triggers fire when
# their expr has been true at every evaluation for the whole "for" window
# (P0 fires at once).
criteria:
  # The seed's seven success criteria (7 = the soak duration above).
  - {name: pool_max, role: success, expr: "pool.max == {{.To.Max}}", description: "Pool max = {{.To.Max}} (verified via health endpoint)"}
  - {name: pool_min, role: success, expr: "pool.min == {{.To.Min}}", description: "Pool min = {{.To.Min}} (verified via health endpoint)"}
  - {name: pool_utilization, role: success, expr: "pool.utilization < 0.7", description: "Pool utilization <70% under normal load"}
  - {name: pool_wait_p95, role: success, expr: "pool.wait_p95_ms < 10", description: "Connection wait time p95 <10ms"}
  - {name: error_rate, role: success, expr: "error_rate < 0.001", description: "Error rate <0.1%"}
  - {name: error_rate_no_regression, role: success, expr: "error_rate <= baseline + 0.001", description: "No error-rate regression from baseline"}
  - {name: latency_p95, role: success, expr: "latency_p95_ms < 500", description: "p95 latency <500ms"}
  - {name: latency_p95_no_regression, role: success, expr: "latency_p95_ms <= baseline * 1.2 + 50ms", description: "No p95 regression from baseline (within 20%, plus 50 ms for a small baseline)"}
  # The seed's rollback triggers, sustained {{dur .TriggerFor}}.
  - {name: error_rate_high, role: rollback, class: P0, expr: "error_rate > 0.01", for: {{dur .TriggerFor}}, description: "Error rate >1% sustained"}
  - {name: latency_p95_high, role: rollback, class: P1, expr: "latency_p95_ms > 1000", for: {{dur .TriggerFor}}, description: "p95 latency >1s sustained"}
  - {name: connection_thrashing, role: rollback, class: P1, expr: "thrashing > 0", for: {{dur .TriggerFor}}, description: "Connection thrashing detected"}
  - {name: db_cpu_high, role: rollback, expr: "db.cpu > 0.9", scope: fleet, aggregate: max, for: {{dur .TriggerFor}}, optional: true, description: "Database CPU >90% sustained (read only for a server on this host; optional: skipped with a warning otherwise)"}
  - {name: pool_saturation, role: rollback, class: P1, expr: "pool.utilization > 0.9", for: {{dur .TriggerFor}}, description: "Database pool saturation (>90%)"}
  # P0 incidents: immediate rollback.
  - {name: integrity, role: rollback, class: P0, expr: "integrity_ok == 0", scope: fleet, optional: true, description: "Data integrity issue / calculation error (ledgerd's /v1/integrity, workload ledger; optional: skipped with a warning otherwise)"}
  - {name: tenant_isolation, role: rollback, class: P0, expr: "violations > 0", scope: fleet, aggregate: sum, description: "Tenant isolation violation or wrong balance seen by the load test"}
  - {name: downtime, role: rollback, class: P0, expr: "downtime_s > 300", description: "System downtime >5 minutes"}

notify:
  webhook_env: POOLPILOT_WEBHOOK_URL   # Slack-compatible incoming webhook; unset = no notifications

evidence:
  dir: {{.EvidenceDir}}   # the run's folder: <dir>/<name>/<run-id>/
`))
