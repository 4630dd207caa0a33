package preflight

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/budget"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/source/health"
)

// Check statuses.
const (
	CheckPass = "pass"
	CheckFail = "fail"
	CheckWarn = "warn"
	CheckSkip = "skip"
)

// Check is one preflight item.
type Check struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Data   any    `json:"data,omitempty"`
}

// Report is the verdict of a preflight.
type Report struct {
	Plan   string    `json:"plan"`
	SHA256 string    `json:"sha256"`
	Time   time.Time `json:"time"`
	OK     bool      `json:"ok"`
	Checks []Check   `json:"checks"`
}

// Failed lists the failed checks.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == CheckFail {
			out = append(out, c)
		}
	}
	return out
}

// Passed reports whether every check passed (warnings and skips do not fail).
func (r Report) Passed() bool { return r.OK }

// Refusal names each failed check with its detail, as the refused state's
// reason gives it.
func (r Report) Refusal() string {
	var why []string
	for _, f := range r.Failed() {
		why = append(why, f.ID+": "+f.Detail)
	}
	return strings.Join(why, "; ")
}

// ChecklistItems are the automated checks as checklist.json lists them
// (a warning passes; the manual_checklist check is left out: the manual
// items are listed one by one, with who ticked them).
func (r Report) ChecklistItems() []evidence.ChecklistItem {
	status := map[string]string{CheckPass: "pass", CheckFail: "fail", CheckSkip: "skipped", CheckWarn: "pass"}
	var out []evidence.ChecklistItem
	for _, c := range r.Checks {
		if c.ID == "manual_checklist" {
			continue
		}
		out = append(out, evidence.ChecklistItem{ID: c.ID, Title: c.Title, Kind: "auto", Status: status[c.Status], Time: r.Time, Detail: c.Detail})
	}
	return out
}

// ServerFacts reads the database's limits and backup state.
type ServerFacts interface {
	Limits(ctx context.Context) (budget.Limits, error)
	// LastArchived is pg_stat_archiver's last_archived_time (zero if none).
	LastArchived(ctx context.Context) (time.Time, error)
}

// Checker runs the machine-checkable part of the seed's pre-launch
// checklist, plus the manual items' ticks.
type Checker struct {
	Plan    *plan.Plan
	PlanDir string // <evidence.dir>/<plan.name>, where ticks live
	Server  ServerFacts
	Prober  change.Prober
	Getenv  func(string) string
	Clock   poolpilot.Clock
	// DriverEnv is what the driver reads for an instance (driver.EnvNeeder);
	// nil: nothing.
	DriverEnv func(plan.Instance) []string
	// Fleet, when set (driver kube), gives the instance counts and the env
	// of each instance's Deployment.
	Fleet FleetFacts
	// Pooler reads PgBouncer when database.pgbouncer_admin_dsn_env is set.
	Pooler PoolerFacts
	// Sizing is a saved sizing recommendation, or nil.
	Sizing *SizingAdvice
	// Sources tells which criteria no source can feed (criteria_sources);
	// nil skips the check.
	Sources CriteriaSources
}

// Run runs every check; none stops the others.
func (pf *Checker) Run(ctx context.Context) Report {
	p := pf.Plan
	r := Report{Plan: p.Name, SHA256: p.SHA256(), Time: pf.Clock.Now().UTC()}
	healths := pf.probeAll(ctx)
	fleet := pf.readFleet(ctx)
	limits, lerr := pf.Server.Limits(ctx)
	r.Checks = append(r.Checks, reachableCheck(lerr))
	r.Checks = append(r.Checks, pf.budgetCheck(limits, lerr, healths, fleet))
	if pf.behindPooler() {
		r.Checks = append(r.Checks, pf.poolerCheck(ctx, fleet))
	}
	r.Checks = append(r.Checks, pf.instanceChecks(healths)...)
	r.Checks = append(r.Checks, pf.criteriaFedCheck(pf.instanceDocs(healths)))
	if fleet != nil {
		r.Checks = append(r.Checks, pf.fleetEnvCheck(fleet))
	}
	r.Checks = append(r.Checks, pf.sizingCheck())
	r.Checks = append(r.Checks, pf.backupCheck(ctx, lerr))
	r.Checks = append(r.Checks, pf.secretsCheck())
	r.Checks = append(r.Checks, pf.criteriaSourcesCheck(ctx))
	r.Checks = append(r.Checks, pf.checklistCheck())
	r.Checks = append(r.Checks, approversCheck(p))
	r.OK = len(r.Failed()) == 0
	return r
}

// approversCheck warns when the plan requires approvals that anyone with
// write access to the evidence folder could forge (no approvers listed).
func approversCheck(p *plan.Plan) Check {
	c := Check{ID: "approvals_signed", Title: "Approvals signed by listed approvers"}
	switch {
	case p.Approvals.Required == 0:
		c.Status, c.Detail = CheckSkip, "the plan requires no approval"
	case !p.Approvals.Signed():
		c.Status, c.Detail = CheckWarn, change.UnsignedApprovalsWarning
	default:
		names := make([]string, len(p.Approvals.Approvers))
		for i, a := range p.Approvals.Approvers {
			names[i] = a.Name
		}
		c.Status, c.Detail = CheckPass, fmt.Sprintf("%d approval(s) required from the listed approvers (%s), each signed with the key the plan lists for its approver", p.Approvals.Required, strings.Join(names, "; "))
	}
	return c
}

type probe struct {
	h      poolpilot.Health
	err    error
	doc    health.Document // when hasDoc: the fields the document carries
	hasDoc bool
}

func (pf *Checker) probeAll(ctx context.Context) map[string]probe {
	out := map[string]probe{}
	dp, docs := pf.Prober.(change.DocumentProber)
	for _, in := range pf.Plan.Instances {
		if docs {
			d, err := dp.Document(ctx, in)
			out[in.Name] = probe{h: d.Health, err: err, doc: d, hasDoc: true}
			continue
		}
		h, err := pf.Prober.Health(ctx, in)
		out[in.Name] = probe{h: h, err: err}
	}
	return out
}

func reachableCheck(err error) Check {
	c := Check{ID: "database_reachable", Title: "Database reachable"}
	if err != nil {
		c.Status, c.Detail = CheckFail, fmt.Sprintf("cannot read server limits: %v", err)
		return c
	}
	c.Status, c.Detail = CheckPass, "connected and read max_connections"
	return c
}

// Budget is the connection-budget arithmetic, shown in full.
type Budget struct {
	Instances         int `json:"instances"`
	Surge             int `json:"surge"`
	PoolMax           int `json:"pool_max"`
	Needed            int `json:"needed"`
	OtherConnections  int `json:"other_connections"`
	MaxConnections    int `json:"max_connections"`
	SuperuserReserved int `json:"superuser_reserved_connections"`
	Reserved          int `json:"reserved_connections"`
	Available         int `json:"available"`
	fits              bool
	maxFit            int // the largest pool max that fits
}

// ComputeBudget does the arithmetic (budget.Compute): (instances + surge) ×
// max + others ≤ max_connections − superuser_reserved − reserved. Its
// Needed counts the others, its Available does not subtract them.
func ComputeBudget(instances, surge, poolMax, others int, l budget.Limits) Budget {
	r := budget.Compute(budget.Input{Limits: l, Fleet: budget.Fleet{Instances: instances, Surge: surge},
		PoolMax: poolMax, Others: others})
	return Budget{Instances: instances, Surge: surge, PoolMax: poolMax, OtherConnections: others,
		MaxConnections: l.MaxConnections, SuperuserReserved: l.SuperuserReserved, Reserved: l.ReservedConnections,
		Needed: r.Needed + r.Others, Available: r.Capacity, fits: r.Fits, maxFit: r.MaxFit}
}

// Fits reports whether the change fits the budget.
func (b Budget) Fits() bool { return b.fits }

// MaxFit is the largest pool max that fits the budget.
func (b Budget) MaxFit() int { return b.maxFit }

// String shows the arithmetic with its numbers.
func (b Budget) String() string {
	return fmt.Sprintf("(%d instance(s) + %d surge) × max %d + %d other connection(s) = %d; max_connections %d − superuser_reserved %d − reserved %d = %d",
		b.Instances, b.Surge, b.PoolMax, b.OtherConnections, b.Needed, b.MaxConnections, b.SuperuserReserved, b.Reserved, b.Available)
}

func (pf *Checker) budgetCheck(l budget.Limits, lerr error, healths map[string]probe, fleet map[string]fleetRead) Check {
	c := Check{ID: "connection_budget", Title: "Connection budget"}
	if pf.behindPooler() {
		c.Status, c.Detail = CheckSkip, "the instances connect through a pooler: their pools count against the pooler (check pooler_budget), not max_connections"
		return c
	}
	if lerr != nil {
		c.Status, c.Detail = CheckFail, "unknown: the database is unreachable"
		return c
	}
	p := pf.Plan
	instances, surge, how, err := pf.peak(fleet)
	if err != nil {
		c.Status, c.Detail = CheckFail, err.Error()
		return c
	}
	// Other clients: the plan's number, else those connected now less what
	// the instances' own pools hold (they are replaced by the change, not
	// added to it). Behind a Service URL one pod answers: each running
	// replica is taken to hold as much.
	held := 0
	for _, in := range p.Instances {
		if pr := healths[in.Name]; pr.err == nil {
			n := in.Pools() // each process is taken to hold as much
			if fr, ok := fleet[in.Name]; ok && fr.err == nil {
				n *= max(fr.f.Replicas, 1)
			}
			held += n * pr.h.Pool.Total
		}
	}
	others := budget.Others(p.Database.OtherClients, l.OtherConnections, held)
	b := ComputeBudget(instances, surge, p.Change.To.Max, others, l)
	c.Data = b
	if how != "" {
		how = "; instances " + how
	}
	if !b.Fits() {
		c.Status = CheckFail
		c.Detail = fmt.Sprintf("the change needs more connections than the server can serve: %s%s. Lower change.to.max to at most %d, raise max_connections, or put a pooler in front (poolpilot size recommends a size)",
			b, how, b.MaxFit())
		return c
	}
	c.Status, c.Detail = CheckPass, b.String()+how
	return c
}

func (pf *Checker) instanceChecks(healths map[string]probe) []Check {
	from := pf.Plan.Change.From
	cfg := Check{ID: "instances_from_config", Title: fmt.Sprintf("Instances report the expected current config (max %d, min %d)", from.Max, from.Min)}
	base := Check{ID: "baseline_health", Title: "Baseline health (error rate < 0.1%, p95 < 500 ms)"}
	var cfgBad, baseBad, noData, notes []string
	idle := false
	for _, in := range pf.Plan.Instances {
		pr := healths[in.Name]
		if pr.err != nil {
			cfgBad = append(cfgBad, fmt.Sprintf("%s: /healthz unreachable: %v", in.Name, pr.err))
			baseBad = append(baseBad, fmt.Sprintf("%s: no health data", in.Name))
			continue
		}
		if pr.h.Pool.Max != from.Max || pr.h.Pool.Min != from.Min {
			cfgBad = append(cfgBad, fmt.Sprintf("%s reports max %d min %d", in.Name, pr.h.Pool.Max, pr.h.Pool.Min))
		}
		if miss := requestDataMissing(pr); len(miss) > 0 {
			noData = append(noData, fmt.Sprintf("%s: no request data: %s", in.Name, health.AbsentReason(miss)))
		} else if rq := pr.h.Requests; rq.Total == 0 {
			notes = append(notes, fmt.Sprintf("%s: no requests in the service's window yet", in.Name))
			idle = true
		} else {
			if rq.ErrorRate >= 0.001 || rq.LatencyP95MS >= 500 {
				baseBad = append(baseBad, fmt.Sprintf("%s: error rate %.4f, p95 %.1f ms", in.Name, rq.ErrorRate, rq.LatencyP95MS))
			} else {
				notes = append(notes, fmt.Sprintf("%s: error rate %.4f, p95 %.1f ms over %d requests", in.Name, rq.ErrorRate, rq.LatencyP95MS, rq.Total))
			}
		}
	}
	cfg.Status, cfg.Detail = CheckPass, "every instance reports the plan's change.from"
	if len(cfgBad) > 0 {
		cfg.Status, cfg.Detail = CheckFail, strings.Join(cfgBad, "; ")+": fix change.from or the instances before the change"
	}
	base.Status, base.Detail = CheckPass, strings.Join(notes, "; ")
	if idle && pf.Plan.Soak.Rate == 0 {
		base.Status, base.Detail = CheckWarn, base.Detail+": the plan has no soak.rate, so the run may find no traffic to measure"
	}
	var why []string
	if len(baseBad) > 0 {
		why = append(why, strings.Join(baseBad, "; ")+": the system is not healthy enough to change now")
	}
	if len(noData) > 0 {
		why = append(why, strings.Join(noData, "; ")+": without the service's request figures the baseline cannot be judged (see docs/contract.md)")
	}
	if len(why) > 0 {
		base.Status, base.Detail = CheckFail, strings.Join(why, "; ")
	}
	return []Check{cfg, base}
}

func (pf *Checker) backupCheck(ctx context.Context, lerr error) Check {
	b := pf.Plan.Backup
	c := Check{ID: "backup_recency", Title: fmt.Sprintf("Database backup newer than %s", b.MaxAge)}
	switch b.Check {
	case "skip":
		c.Status, c.Detail = CheckSkip, "skipped by the plan: "+b.SkipReason
	case "command":
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(cctx, b.Command[0], b.Command[1:]...).CombinedOutput()
		text := strings.TrimSpace(string(out))
		if err != nil {
			c.Status, c.Detail = CheckFail, fmt.Sprintf("backup check command %q failed: %v: %s", strings.Join(b.Command, " "), err, text)
		} else {
			c.Status, c.Detail = CheckPass, "backup check command succeeded: "+text
		}
	default:
		if lerr != nil {
			c.Status, c.Detail = CheckFail, "unknown: the database is unreachable"
			return c
		}
		last, err := pf.Server.LastArchived(ctx)
		age := pf.Clock.Now().Sub(last)
		switch {
		case err != nil:
			c.Status, c.Detail = CheckFail, fmt.Sprintf("read pg_stat_archiver: %v", err)
		case last.IsZero():
			c.Status, c.Detail = CheckFail, "pg_stat_archiver shows no archived WAL: no recent backup is provable. Set backup.check to command (your backup tool's check) or skip with a skip_reason"
		case age > b.MaxAge.D():
			c.Status, c.Detail = CheckFail, fmt.Sprintf("last WAL archived %s ago (at %s), older than %s", age.Round(time.Minute), last.UTC().Format(time.RFC3339), b.MaxAge)
		default:
			c.Status, c.Detail = CheckPass, fmt.Sprintf("last WAL archived %s ago", age.Round(time.Second))
		}
	}
	return c
}

func (pf *Checker) secretsCheck() Check {
	c := Check{ID: "credentials_present", Title: "Credentials the drivers need are set"}
	var missing []string
	if pf.Getenv(pf.Plan.Database.DSNEnv) == "" {
		missing = append(missing, pf.Plan.Database.DSNEnv)
	}
	if v := pf.Plan.Database.PgBouncerAdminDSNEnv; v != "" && pf.Getenv(v) == "" {
		missing = append(missing, v+" (PgBouncer admin console)")
	}
	if pf.DriverEnv != nil {
		for _, in := range pf.Plan.Instances {
			for _, v := range pf.DriverEnv(in) {
				if pf.Getenv(v) == "" {
					missing = append(missing, v+" ("+in.Name+")")
				}
			}
		}
	}
	if len(missing) > 0 {
		c.Status, c.Detail = CheckFail, "unset environment variables: "+strings.Join(missing, ", ")
		return c
	}
	c.Status, c.Detail = CheckPass, "set (values not shown)"
	return c
}

func (pf *Checker) checklistCheck() Check {
	c := Check{ID: "manual_checklist", Title: "Manual checklist items ticked"}
	if len(pf.Plan.Checklist) == 0 {
		c.Status, c.Detail = CheckSkip, "the plan has no manual items"
		return c
	}
	_, missing, err := change.CheckTicks(pf.PlanDir, pf.Plan)
	switch {
	case err != nil:
		c.Status, c.Detail = CheckFail, err.Error()
	case len(missing) > 0:
		c.Status = CheckFail
		c.Detail = fmt.Sprintf("not ticked: %s; tick each with: poolpilot checklist tick ID --plan PLAN --by NAME", strings.Join(missing, ", "))
	default:
		c.Status, c.Detail = CheckPass, fmt.Sprintf("all %d items ticked", len(pf.Plan.Checklist))
	}
	return c
}
