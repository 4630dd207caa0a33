package preflight

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/poolpilot/poolpilot/budget"
	"github.com/poolpilot/poolpilot/plan"
)

// FleetEnv is one managed variable of a Deployment's container as it is
// now: a literal value, a reference (Ref, e.g. a ConfigMap key), or absent.
type FleetEnv struct {
	Name    string `json:"name"`
	Present bool   `json:"present"`
	Value   string `json:"value,omitempty"`
	Ref     string `json:"ref,omitempty"`
}

// FleetInstance is what an orchestrator reports for one plan instance (a
// Kubernetes Deployment of many pods).
type FleetInstance struct {
	// Target names it (kube://namespace/deployment/container).
	Target      string `json:"target"`
	Replicas    int    `json:"replicas"`
	MaxReplicas int    `json:"max_replicas"` // the autoscaler's maximum, or Replicas
	MaxSurge    int    `json:"max_surge"`    // extra pods during a rolling restart
	// Arithmetic explains the numbers, one step a line.
	Arithmetic string `json:"arithmetic"`
	// Env is DB_POOL_MAX and DB_POOL_MIN as the pods get them.
	Env []FleetEnv `json:"env"`
}

// Peak is the most pods that can run at once.
func (f FleetInstance) Peak() int { return f.MaxReplicas + f.MaxSurge }

// FleetFacts reads plan instances from an orchestrator (driver kube):
// preflight then takes the instance count from it instead of
// rollout.max_instances and rollout.surge, and compares its env with
// change.from.
type FleetFacts interface {
	Instance(ctx context.Context, in plan.Instance) (FleetInstance, error)
}

// PoolerBudget is the budget on both sides of a connection pooler.
type PoolerBudget struct {
	ClientConnections int      `json:"client_connections"`
	MaxClientConn     int      `json:"max_client_conn"`
	ClientOK          bool     `json:"client_ok"`
	ServerConnections int      `json:"server_connections"`
	ServerAvailable   int      `json:"server_available"`
	ServerOK          bool     `json:"server_ok"`
	Lines             []string `json:"lines"`
}

// PoolerFacts reads a pooler's limits (PgBouncer's admin console) and
// computes its budget for instances × poolMax client connections plus
// others.
type PoolerFacts interface {
	Budget(ctx context.Context, instances, poolMax, others int) (PoolerBudget, error)
}

// SizingAdvice is a saved sizing recommendation (poolpilot size --save),
// read and judged by the caller (package advisor).
type SizingAdvice struct {
	Source string // the report's path
	// Err is why the report could not be read.
	Err error
	// Max, Min and Reason are the recommendation; Refused when the advisor
	// made none (Reason says why).
	Max, Min int
	Refused  bool
	Reason   string
	// Warning is set when change.to.max is far above Max (advisor.Check).
	Warning string
	// FarAbove is the factor the warning uses.
	FarAbove float64
}

// fleetRead is one instance's answer from FleetFacts.
type fleetRead struct {
	f   FleetInstance
	err error
}

func (pf *Checker) readFleet(ctx context.Context) map[string]fleetRead {
	if pf.Fleet == nil {
		return nil
	}
	out := map[string]fleetRead{}
	for _, in := range pf.Plan.Instances {
		f, err := pf.Fleet.Instance(ctx, in)
		out[in.Name] = fleetRead{f, err}
	}
	return out
}

// peak is the budget's instance and surge counts: from the orchestrator
// when there is one, else the plan's rollout numbers. how explains them.
func (pf *Checker) peak(fleet map[string]fleetRead) (instances, surge int, how string, err error) {
	p := pf.Plan
	if fleet == nil {
		instances, surge, how = p.Peak()
		return instances, surge, how, nil
	}
	var lines, bad []string
	for _, in := range p.Instances {
		fr := fleet[in.Name]
		if fr.err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", in.Name, fr.err))
			continue
		}
		n := in.Pools()
		instances += fr.f.MaxReplicas * n
		surge += fr.f.MaxSurge * n
		line := fmt.Sprintf("%s: %d max replicas + %d surge (%s)", in.Name, fr.f.MaxReplicas, fr.f.MaxSurge,
			strings.Join(strings.Split(strings.TrimSpace(fr.f.Arithmetic), "\n"), "; "))
		if n > 1 {
			line += fmt.Sprintf(", × %d processes each", n)
		}
		lines = append(lines, line)
	}
	if len(bad) > 0 {
		return 0, 0, "", fmt.Errorf("cannot read the fleet: %s", strings.Join(bad, "; "))
	}
	return instances, surge, "from the cluster: " + strings.Join(lines, "; "), nil
}

// behindPooler reports whether the plan says the instances connect through
// a pooler (their pools then count against the pooler, not max_connections).
func (pf *Checker) behindPooler() bool {
	d := pf.Plan.Database
	return d.PgBouncerAdminDSNEnv != "" || d.PoolerMaxClients > 0
}

// poolerCheck is the pooler's budget: PgBouncer's console when the plan
// names it, else the plan's pooler_max_clients for the client side.
func (pf *Checker) poolerCheck(ctx context.Context, fleet map[string]fleetRead) Check {
	p := pf.Plan
	c := Check{ID: "pooler_budget", Title: "Connection budget through the pooler"}
	instances, surge, how, err := pf.peak(fleet)
	if err != nil {
		c.Status, c.Detail = CheckFail, err.Error()
		return c
	}
	n := instances + surge
	others := p.Database.OtherClients
	// clients is the client side of the budget.Compute against limit.
	clients := func(limit int) budget.Result {
		return budget.Compute(budget.Input{Fleet: budget.Fleet{Instances: n}, PoolMax: p.Change.To.Max,
			Others: others, Pooler: &budget.Pooler{ClientLimit: limit}})
	}
	if p.Database.PgBouncerAdminDSNEnv == "" {
		limit := p.Database.PoolerMaxClients
		r := clients(limit)
		need := r.Needed + r.Others
		b := PoolerBudget{ClientConnections: need, MaxClientConn: limit, ClientOK: r.Fits}
		b.Lines = []string{fmt.Sprintf("client side: (%d instance(s) + %d surge) × max %d + %d other client(s) = %d %s pooler_max_clients %d",
			instances, surge, p.Change.To.Max, others, need, cmpWord(b.ClientOK), limit),
			"server side: not checked (the pooler's console is not readable; its server pool is the provider's)"}
		return poolerVerdict(c, b, how, r.MaxFit)
	}
	if pf.Pooler == nil {
		c.Status, c.Detail = CheckFail, "database.pgbouncer_admin_dsn_env is set but no PgBouncer reader is wired (internal)"
		return c
	}
	b, err := pf.Pooler.Budget(ctx, n, p.Change.To.Max, others)
	if err != nil {
		c.Status, c.Detail = CheckFail, fmt.Sprintf("cannot read PgBouncer (%s): %v", p.Database.PgBouncerAdminDSNEnv, err)
		return c
	}
	return poolerVerdict(c, b, how, clients(b.MaxClientConn).MaxFit)
}

// poolerVerdict judges both sides; fit is the largest pool max the client
// side takes.
func poolerVerdict(c Check, b PoolerBudget, how string, fit int) Check {
	c.Data = b
	detail := strings.Join(b.Lines, "; ")
	if how != "" {
		detail += "; instances " + how
	}
	switch {
	case !b.ClientOK:
		c.Status = CheckFail
		c.Detail = fmt.Sprintf("the pooler cannot take the fleet's client connections: %s. Lower change.to.max to at most %d, or raise the pooler's client limit", detail, fit)
	case !b.ServerOK && b.ServerConnections > 0:
		c.Status = CheckFail
		c.Detail = fmt.Sprintf("the pooler's server side does not fit in PostgreSQL: %s. Lower the pooler's pool_size or max_db_connections, or raise max_connections", detail)
	default:
		c.Status, c.Detail = CheckPass, detail
	}
	return c
}

func cmpWord(ok bool) string {
	if ok {
		return "≤"
	}
	return "> (DOES NOT FIT)"
}

// fleetEnvCheck compares each Deployment's DB_POOL_MAX/DB_POOL_MIN with
// change.from: the controller verifies a rollback against change.from, so
// a Deployment that runs anything else would end rollback-failed.
func (pf *Checker) fleetEnvCheck(fleet map[string]fleetRead) Check {
	from := pf.Plan.Change.From
	c := Check{ID: "deployment_env", Title: fmt.Sprintf("Deployments' env is the plan's change.from (max %d, min %d)", from.Max, from.Min)}
	want := map[string]int{"DB_POOL_MAX": from.Max, "DB_POOL_MIN": from.Min}
	var bad, good []string
	for _, in := range pf.Plan.Instances {
		fr := fleet[in.Name]
		if fr.err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", in.Name, fr.err))
			continue
		}
		var parts []string
		for _, e := range fr.f.Env {
			w, managed := want[e.Name]
			switch {
			case !managed:
			case !e.Present:
				bad = append(bad, fmt.Sprintf("%s (%s): %s is not set (the pods run the pool's default, not %d)", in.Name, fr.f.Target, e.Name, w))
			case e.Ref != "":
				bad = append(bad, fmt.Sprintf("%s (%s): %s comes from %s, which poolpilot cannot read (want the literal %d)", in.Name, fr.f.Target, e.Name, e.Ref, w))
			case e.Value != strconv.Itoa(w):
				bad = append(bad, fmt.Sprintf("%s (%s): %s=%s, change.from says %d", in.Name, fr.f.Target, e.Name, e.Value, w))
			default:
				parts = append(parts, e.Name+"="+e.Value)
			}
		}
		good = append(good, fmt.Sprintf("%s: %s", in.Name, strings.Join(parts, " ")))
	}
	if len(bad) > 0 {
		c.Status = CheckFail
		c.Detail = strings.Join(bad, "; ") + ": set the variables in the Deployment or fix change.from (a rollback is verified against change.from)"
		return c
	}
	c.Status, c.Detail = CheckPass, strings.Join(good, "; ")
	return c
}

// sizingCheck compares change.to.max with a saved sizing recommendation:
// a warning, never a refusal.
func (pf *Checker) sizingCheck() Check {
	s := pf.Sizing
	to := pf.Plan.Change.To.Max
	c := Check{ID: "sizing_recommendation", Title: "Pool max against the measured sizing recommendation"}
	switch {
	case s == nil:
		c.Status, c.Detail = CheckSkip, "no sizing report (database.sizing_report or preflight --sizing FILE; measure with poolpilot size --save FILE)"
	case s.Err != nil:
		c.Status, c.Detail = CheckWarn, fmt.Sprintf("sizing report %s not used: %v", s.Source, s.Err)
	case s.Refused || s.Max <= 0:
		c.Status, c.Detail = CheckSkip, fmt.Sprintf("the sizing report %s holds no recommendation: %s", s.Source, s.Reason)
	case s.Warning != "":
		c.Status, c.Detail = CheckWarn, s.Warning+" (report "+s.Source+")"
	default:
		c.Status = CheckPass
		c.Detail = fmt.Sprintf("change.to.max %d is within %g× the recommended max %d (report %s: %s)", to, s.FarAbove, s.Max, s.Source, s.Reason)
	}
	if s != nil && s.Err == nil {
		c.Data = map[string]any{"plan_max": to, "recommended_max": s.Max, "recommended_min": s.Min, "refused": s.Refused, "report": s.Source}
	}
	return c
}
