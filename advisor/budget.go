package advisor

import (
	"fmt"

	"github.com/poolpilot/poolpilot/budget"
	"github.com/poolpilot/poolpilot/plan"
)

// Fleet is the service's instance count at its largest, plus the extra
// instances a rolling restart runs at once.
type Fleet struct {
	Instances int `json:"instances"`
	Surge     int `json:"surge"`
}

// PlanBudget judges a plan's own numbers, counted as preflight's
// connection_budget counts them (NewPlanBudget).
type PlanBudget struct {
	Max int `json:"max"`
	// Instances and Surge are pools: an instance of several processes
	// counts each (plan.Peak).
	Instances      int    `json:"instances"`
	Surge          int    `json:"surge"`
	Needed         int    `json:"needed"`
	Fits           bool   `json:"fits"`
	CarryInstances int    `json:"carry_instances"`
	MaxFit         int    `json:"max_fit"`           // the largest max that fits (0 when not judged)
	Warning        string `json:"warning,omitempty"` // Check's warning against the recommendation
	Message        string `json:"message"`
	// OtherClients is the plan's database.other_clients; 0 counts the
	// client connections open now, as preflight does.
	OtherClients int `json:"-"`
	// How is plan.Peak's note on instances of several processes.
	How string `json:"-"`
	// Pooler: the plan's instances connect through a pooler, so preflight
	// checks pooler_budget, not max_connections.
	Pooler bool `json:"-"`
	// Cluster: the plan's driver reads the instances from an orchestrator
	// (kube), so preflight counts them from the cluster; the caller sets it
	// (assemble.FleetFromCluster), advisor does not know drivers.
	Cluster bool `json:"-"`
}

// NewPlanBudget is the plan's budget inputs, as preflight reads them;
// warning is Check's against the recommendation.
func NewPlanBudget(p *plan.Plan, warning string) *PlanBudget {
	n, surge, how := p.Peak()
	d := p.Database
	return &PlanBudget{Max: p.Change.To.Max, Instances: n, Surge: surge, Warning: warning, OtherClients: d.OtherClients,
		How: how, Pooler: d.PgBouncerAdminDSNEnv != "" || d.PoolerMaxClients > 0}
}

// Budget is the fleet's connection budget at the recommended max.
type Budget struct {
	MaxConnections      int  `json:"max_connections"`
	SuperuserReserved   int  `json:"superuser_reserved_connections"`
	ReservedConnections int  `json:"reserved_connections"`
	OtherConnections    int  `json:"other_connections"`
	Available           int  `json:"available"`
	Pooler              bool `json:"pooler"` // behind a transaction pooler: not judged
	// Judged is false behind a pooler, and when there is no recommended max.
	Judged         bool        `json:"judged"`
	Instances      int         `json:"instances"`
	Surge          int         `json:"surge"`
	PerInstanceMax int         `json:"per_instance_max"`
	Needed         int         `json:"needed"`
	Fits           bool        `json:"fits"`
	CarryInstances int         `json:"carry_instances"` // instances the server carries at PerInstanceMax, surge kept free
	Message        string      `json:"message"`
	Plan           *PlanBudget `json:"plan,omitempty"`
}

// FleetBudget computes (instances + surge) × perInstanceMax against the
// server's max_connections − superuser_reserved − reserved − other
// connections. perInstanceMax 0 (no recommendation) leaves the fleet
// unjudged. plan, when not nil, is judged the same way with its own max,
// instances and surge. Behind a transaction pooler nothing is judged: the
// limits are those of the server behind the pooler's own pool.
func FleetBudget(l budget.Limits, pooler bool, fleet Fleet, perInstanceMax int, plan *PlanBudget) Budget {
	in := budget.Input{Limits: l, Fleet: budget.Fleet{Instances: fleet.Instances, Surge: fleet.Surge},
		PoolMax: perInstanceMax, Others: l.OtherConnections}
	if pooler {
		in.Pooler = &budget.Pooler{}
	}
	r := budget.Compute(in)
	b := Budget{MaxConnections: l.MaxConnections, SuperuserReserved: l.SuperuserReserved,
		ReservedConnections: l.ReservedConnections, OtherConnections: l.OtherConnections,
		Available: l.Available(), Pooler: pooler, Instances: fleet.Instances, Surge: fleet.Surge,
		PerInstanceMax: perInstanceMax, Needed: r.Needed, Fits: r.Fits,
		CarryInstances: budget.Carry(l.Available(), perInstanceMax, fleet.Surge)}
	avail := l.Arithmetic() + " available"
	switch {
	case pooler:
		b.Message = fmt.Sprintf("behind a transaction pooler: the pools' connections go to the pooler, so this budget applies to the pooler's own server pool (%s), not to the instances; not judged", avail)
	case perInstanceMax <= 0:
		b.Message = fmt.Sprintf("no recommended max to judge; the server has %s", avail)
	default:
		b.Judged = true
		verdict := "fits"
		if !b.Fits {
			verdict = "does NOT fit"
		}
		b.Message = fmt.Sprintf("(%d instances + %d surge) × max %d = %d connections %s in %s; the database carries %d instances at max %d",
			fleet.Instances, fleet.Surge, perInstanceMax, b.Needed, verdict, avail, b.CarryInstances, perInstanceMax)
	}
	if plan != nil {
		b.Plan = judgePlan(l, pooler, *plan)
	}
	return b
}

// judgePlan is the plan's budget with preflight's inputs: its pools, its
// other clients (or those connected now), and its pooler.
func judgePlan(l budget.Limits, pooler bool, p PlanBudget) *PlanBudget {
	others := budget.Others(p.OtherClients, l.OtherConnections, 0)
	in := budget.Input{Limits: l, Fleet: budget.Fleet{Instances: p.Instances, Surge: p.Surge}, PoolMax: p.Max, Others: others}
	if pooler || p.Pooler {
		in.Pooler = &budget.Pooler{}
	}
	r := budget.Compute(in)
	p.Needed, p.Fits, p.MaxFit = r.Needed, r.Fits, r.MaxFit
	avail := l.Arithmetic() + " available"
	if p.OtherClients > 0 {
		avail = fmt.Sprintf("max_connections %d − superuser_reserved %d − reserved %d − %d other clients (database.other_clients) = %d available",
			l.MaxConnections, l.SuperuserReserved, l.ReservedConnections, others, r.Capacity-others)
	}
	p.CarryInstances = budget.Carry(r.Capacity-others, p.Max, p.Surge)
	how := ""
	if p.How != "" {
		how = " (instances " + p.How + ")"
	}
	switch {
	case in.Pooler != nil:
		p.Message = fmt.Sprintf("the plan's (%d + %d surge) × max %d = %d connections go to the pooler; not judged here", p.Instances, p.Surge, p.Max, p.Needed)
		if p.Pooler {
			p.Message += " (preflight checks them in pooler_budget)"
		}
	case p.Fits:
		p.Message = fmt.Sprintf("the plan's (%d instances + %d surge) × max %d = %d connections%s fit in %d available", p.Instances, p.Surge, p.Max, p.Needed, how, r.Available)
	default:
		p.Message = fmt.Sprintf("the plan's (%d instances + %d surge) × max %d = %d connections%s do NOT fit in %d available (%s): at max %d the database carries %d instances; the largest max that fits is %d; %s",
			p.Instances, p.Surge, p.Max, p.Needed, how, r.Available, avail, p.Max, p.CarryInstances, p.MaxFit, preflightSays(p, l))
	}
	return &p
}

// preflightSays is what preflight's connection_budget does with a plan
// that does not fit here: it refuses it, when its inputs are the same.
func preflightSays(p PlanBudget, l budget.Limits) string {
	switch {
	case p.Cluster:
		return "preflight counts the instances from the cluster (driver kube) and refuses this plan if the cluster runs as many"
	case p.OtherClients == 0 && l.OtherConnections > 0:
		return fmt.Sprintf("preflight refuses this plan unless the plan's instances hold some of the %d connections open now (it counts those as replaced, not as other clients)", l.OtherConnections)
	}
	return "preflight refuses this plan"
}
