package plan

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/driver/kube/kubetarget"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/redact"
)

// Patterns of names and times in a plan (also in its JSON Schema).
const (
	NamePattern   = `^[a-z0-9][a-z0-9_.-]{0,63}$`
	EnvVarPattern = `^[A-Za-z_][A-Za-z0-9_]*$`
	ClockPattern  = `^([01][0-9]|2[0-3]):[0-5][0-9]$`
)

var (
	nameRE   = regexp.MustCompile(NamePattern)
	envVarRE = regexp.MustCompile(EnvVarPattern)
	clockRE  = regexp.MustCompile(ClockPattern)
)

type checker struct{ errs []FieldError }

func (c *checker) add(path, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *Plan) validate() []FieldError {
	c := &checker{}
	if p.Version != Version {
		c.add("$.version", "must be %d (got %d)", Version, p.Version)
	}
	if !nameRE.MatchString(p.Name) {
		c.add("$.name", "%q must be 1-64 characters of a-z, 0-9, '_', '-', '.' starting with a letter or digit", p.Name)
	}
	c.envVar("$.database.dsn_env", p.Database.DSNEnv, true)
	p.validateDatabase(c)
	p.validateInstances(c)
	c.poolSize("$.change.from", p.Change.From)
	c.poolSize("$.change.to", p.Change.To)
	if p.Change.From == p.Change.To {
		c.add("$.change.to", "is the same as change.from (%d:%d): nothing to change", p.Change.To.Max, p.Change.To.Min)
	}
	p.validateSteps(c)
	p.validateRollout(c)
	p.validateWindow(c)
	if p.Approvals.Required < 0 || p.Approvals.Required > 10 {
		c.add("$.approvals.required", "must be between 0 and 10 (got %d)", p.Approvals.Required)
	}
	p.validateApprovers(c)
	p.validateChecklist(c)
	p.validateBackup(c)
	p.validateLoad(c)
	p.validateTiming(c)
	p.validateCriteria(c)
	p.validatePrometheus(c)
	p.validateNotify(c)
	if strings.TrimSpace(p.Evidence.Dir) == "" {
		c.add("$.evidence.dir", "must not be blank")
	}
	return c.errs
}

func (c *checker) envVar(path, v string, required bool) {
	if v == "" && !required {
		return
	}
	if !envVarRE.MatchString(v) {
		c.add(path, "%q is not an environment variable name (letters, digits, '_')", v)
	}
}

func (c *checker) poolSize(path string, s PoolSize) {
	if s.Max < 1 || s.Max > MaxPoolSize {
		c.add(path+".max", "must be between 1 and %d (got %d)", MaxPoolSize, s.Max)
	}
	if s.Min < 0 {
		c.add(path+".min", "must not be negative (got %d)", s.Min)
	} else if s.Min > s.Max && s.Max >= 1 {
		c.add(path+".min", "(%d) must not exceed max (%d)", s.Min, s.Max)
	}
}

func (c *checker) httpURL(path, raw string, required bool) {
	if raw == "" {
		if required {
			c.add(path, "is required (e.g. http://127.0.0.1:8080/healthz)")
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.add(path, "%q is not an absolute http(s) URL", redact.URL(raw))
		return
	}
	if u.User != nil {
		c.add(path, "must not hold credentials: a plan never holds a secret (name an environment variable instead, e.g. admin_token_env)")
	}
}

// uniqueName checks that name is a valid identifier not seen before in
// its list, and remembers it.
func (c *checker) uniqueName(path, name string, seen map[string]bool) {
	if !nameRE.MatchString(name) {
		c.add(path, "%q must be 1-64 characters of a-z, 0-9, '_', '-', '.'", name)
	} else if seen[name] {
		c.add(path, "%q is listed twice", name)
	}
	seen[name] = true
}

func (p *Plan) validateInstances(c *checker) {
	if len(p.Instances) == 0 {
		c.add("$.instances", "at least one instance is required")
	}
	seen := map[string]bool{}
	for i, in := range p.Instances {
		path := fmt.Sprintf("$.instances[%d]", i)
		c.uniqueName(path+".name", in.Name, seen)
		c.httpURL(path+".health_url", in.HealthURL, true)
		c.httpURL(path+".admin_url", in.AdminURL, false)
		p.validateKube(c, path, in)
		if in.Processes < 1 || in.Processes > 1000 {
			c.add(path+".processes", "%d: want 1–1000 processes, each with its own pool (at least 1; omit the field for 1)", in.Processes)
		}
		switch p.Driver {
		case DriverAdmin:
			if in.AdminTokenEnv == "" {
				c.add(path+".admin_token_env", "is required by the admin driver (the variable holding the bearer token)")
			}
			c.envVar(path+".admin_token_env", in.AdminTokenEnv, false)
		case DriverRestart:
			if in.EnvFile == "" {
				c.add(path+".env_file", "is required by the restart driver")
			}
			if len(in.RestartCommand) == 0 {
				c.add(path+".restart_command", "is required by the restart driver (e.g. [systemctl, restart, ledgerd])")
			}
			c.envVar(path+".admin_token_env", in.AdminTokenEnv, false)
		}
	}
	switch p.Driver {
	case DriverAdmin, DriverRestart, DriverKube:
	default:
		c.add("$.driver", "%q is not a driver: use admin, restart or kube", p.Driver)
	}
	if p.Kubeconfig != "" && p.Driver != DriverKube {
		c.add("$.kubeconfig", "is only for driver kube (driver is %s)", p.Driver)
	}
}

// validateKube checks an instance's kube target: required by the kube
// driver, refused by the others.
func (p *Plan) validateKube(c *checker, path string, in Instance) {
	if in.Kube == "" {
		if p.Driver == DriverKube {
			c.add(path+".kube", "is required by the kube driver: the Deployment as kube://namespace/deployment[/container]")
		}
		return
	}
	if p.Driver != DriverKube {
		c.add(path+".kube", "is only for driver kube (driver is %s)", p.Driver)
		return
	}
	if _, err := kubetarget.Parse(in.Kube); err != nil {
		c.add(path+".kube", "%v", err)
	}
}

func (p *Plan) validateDatabase(c *checker) {
	d := p.Database
	if d.OtherClients < 0 {
		c.add("$.database.other_clients", "must not be negative (got %d)", d.OtherClients)
	}
	c.envVar("$.database.pgbouncer_admin_dsn_env", d.PgBouncerAdminDSNEnv, false)
	if d.PgBouncerDatabase != "" && d.PgBouncerAdminDSNEnv == "" {
		c.add("$.database.pgbouncer_database", "needs database.pgbouncer_admin_dsn_env (the admin console to read)")
	}
	if d.PoolerMaxClients < 0 {
		c.add("$.database.pooler_max_clients", "must not be negative (got %d)", d.PoolerMaxClients)
	}
	if d.PoolerMaxClients > 0 && d.PgBouncerAdminDSNEnv != "" {
		c.add("$.database.pooler_max_clients", "is for a pooler whose console cannot be read; with pgbouncer_admin_dsn_env preflight reads max_client_conn itself: remove one")
	}
	if strings.TrimSpace(d.SizingReport) == "" && d.SizingReport != "" {
		c.add("$.database.sizing_report", "must not be blank")
	}
}

func (p *Plan) validateRollout(c *checker) {
	r := p.Rollout
	if r.BatchSize < 1 {
		c.add("$.rollout.batch_size", "must be at least 1 (got %d)", r.BatchSize)
	}
	if r.Surge < 0 {
		c.add("$.rollout.surge", "must not be negative (got %d)", r.Surge)
	}
	if r.MaxInstances != 0 && r.MaxInstances < len(p.Instances) {
		c.add("$.rollout.max_instances", "(%d) is less than the %d instances listed", r.MaxInstances, len(p.Instances))
	}
	if r.RolloutTimeout < 0 {
		c.add("$.rollout.rollout_timeout", "must not be negative (got %s)", r.RolloutTimeout)
	} else if r.RolloutTimeout != 0 && p.Driver != DriverKube {
		c.add("$.rollout.rollout_timeout", "is only for driver kube (driver is %s); the other drivers use verify_timeout", p.Driver)
	}
}

func (p *Plan) validateWindow(c *checker) {
	w := p.Window
	if w.Start == "" && w.End == "" {
		return
	}
	if !clockRE.MatchString(w.Start) {
		c.add("$.window.start", "%q must be HH:MM (24-hour), e.g. 02:00", w.Start)
	}
	if !clockRE.MatchString(w.End) {
		c.add("$.window.end", "%q must be HH:MM (24-hour), e.g. 06:00", w.End)
	}
	if w.Start != "" && w.Start == w.End {
		c.add("$.window.end", "equals window.start: the window would be empty")
	}
	if _, err := time.LoadLocation(w.Timezone); err != nil {
		c.add("$.window.timezone", "%q is not a known time zone (e.g. UTC, Europe/Paris)", w.Timezone)
	}
}

func (p *Plan) validateChecklist(c *checker) {
	seen := map[string]bool{}
	for i, it := range p.Checklist {
		path := fmt.Sprintf("$.checklist[%d]", i)
		c.uniqueName(path+".id", it.ID, seen)
		if strings.TrimSpace(it.Description) == "" {
			c.add(path+".description", "is required")
		}
	}
}

func (p *Plan) validateBackup(c *checker) {
	b := p.Backup
	switch b.Check {
	case "pg_stat_archiver":
	case "command":
		if len(b.Command) == 0 {
			c.add("$.backup.command", "is required when backup.check is command")
		}
	case "skip":
		if strings.TrimSpace(b.SkipReason) == "" {
			c.add("$.backup.skip_reason", "is required when backup.check is skip: say why")
		}
	default:
		c.add("$.backup.check", "%q must be pg_stat_archiver, command or skip", b.Check)
	}
}

func (p *Plan) validateLoad(c *checker) {
	l := p.LoadTest
	switch l.Workload {
	case "none":
		return
	case "ledger", "select1":
	case "http":
		c.httpURL("$.load_test.url", l.URL, false)
	default:
		c.add("$.load_test.workload", "%q must be ledger, http, select1 or none", l.Workload)
		return
	}
	if l.Rate <= 0 {
		c.add("$.load_test.rate", "must be positive requests per second (got %g)", l.Rate)
	}
	if l.Duration <= 0 {
		c.add("$.load_test.duration", "must be a positive duration such as 10m")
	}
	if l.MaxInflight < 0 {
		c.add("$.load_test.max_inflight", "must not be negative (got %d)", l.MaxInflight)
	}
}

func (p *Plan) validateCriteria(c *checker) {
	if len(p.Criteria) == 0 {
		c.add("$.criteria", "at least one criterion is required (poolpilot plan init writes the seed's set)")
	}
	seen := map[string]bool{}
	for i, cr := range p.Criteria {
		path := fmt.Sprintf("$.criteria[%d]", i)
		c.uniqueName(path+".name", cr.Name, seen)
		if strings.TrimSpace(cr.Expr) == "" {
			c.add(path+".expr", "is required, e.g. \"error_rate > 0.01\"")
		} else if _, err := criteria.ParseExpr(cr.Expr); err != nil {
			c.add(path+".expr", "%q: %v", cr.Expr, err)
		}
		switch cr.Role {
		case poolpilot.RoleSuccess, poolpilot.RoleRollback:
		default:
			c.add(path+".role", "%q must be success or rollback", cr.Role)
		}
		switch cr.Class {
		case "", poolpilot.ClassP0, poolpilot.ClassP1:
		default:
			c.add(path+".class", "%q must be P0, P1 or empty", cr.Class)
		}
		switch cr.Scope {
		case poolpilot.ScopeInstance, poolpilot.ScopeFleet:
		default:
			c.add(path+".scope", "%q must be instance or fleet", cr.Scope)
		}
		switch cr.Aggregate {
		case "", "max", "min", "avg", "sum":
		default:
			c.add(path+".aggregate", "%q must be max, min, avg or sum", cr.Aggregate)
		}
	}
}

// validateApprovers: each approver has a name and a parseable Ed25519
// key, no name or key twice, and enough approvers to meet required.
func (p *Plan) validateApprovers(c *checker) {
	ap := p.Approvals.Approvers
	if len(ap) == 0 {
		return
	}
	if len(ap) < p.Approvals.Required {
		c.add("$.approvals.approvers", "lists %d approver(s) but approvals.required is %d: list at least as many people as must approve", len(ap), p.Approvals.Required)
	}
	names, keys := map[string]int{}, map[string]int{}
	for i, a := range ap {
		path := fmt.Sprintf("$.approvals.approvers[%d]", i)
		name := strings.ToLower(strings.TrimSpace(a.Name))
		switch {
		case name == "":
			c.add(path+".name", "is required: the approver's name, as they give it to 'poolpilot approve --by'")
		case names[name] > 0:
			c.add(path+".name", "%q is listed twice (also approvers[%d])", a.Name, names[name]-1)
		default:
			names[name] = i + 1
		}
		if strings.TrimSpace(a.PublicKey) == "" {
			c.add(path+".public_key", "is required: make a key pair with 'poolpilot evidence keygen --out NAME' and paste the public key it prints")
			continue
		}
		k, err := evidence.ParsePublicKeyText(a.PublicKey)
		if err != nil {
			c.add(path+".public_key", "%v", err)
			continue
		}
		txt := evidence.PublicKeyText(k)
		if j := keys[txt]; j > 0 {
			c.add(path+".public_key", "is the same key as approvers[%d]: each person needs their own key", j-1)
		} else {
			keys[txt] = i + 1
		}
	}
}
