package advisor

import (
	"fmt"

	"github.com/poolpilot/poolpilot/pgpool"
)

// Fleet is the service's instance count at its largest, plus the extra
// instances a rolling restart runs at once.
type Fleet struct {
	Instances int `json:"instances"`
	Surge     int `json:"surge"`
}

// PlanBudget judges a plan's own numbers.
type PlanBudget struct {
	Max            int    `json:"max"`
	Instances      int    `json:"instances"`
	Surge          int    `json:"surge"`
	Needed         int    `json:"needed"`
	Fits           bool   `json:"fits"`
	CarryInstances int    `json:"carry_instances"`
	Warning        string `json:"warning,omitempty"` // Check's warning against the recommendation
	Message        string `json:"message"`
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

// carry is how many instances fit at max each, surge extra ones kept free.
func carry(available, max, surge int) int {
	if max <= 0 {
		return 0
	}
	return maxInt(available/max-surge, 0)
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// FleetBudget computes (instances + surge) × perInstanceMax against the
// server's max_connections − superuser_reserved − reserved − other
// connections. perInstanceMax 0 (no recommendation) leaves the fleet
// unjudged. plan, when not nil, is judged the same way with its own max,
// instances and surge. Behind a transaction pooler nothing is judged: the
// limits are those of the server behind the pooler's own pool.
func FleetBudget(l pgpool.ServerLimits, pooler bool, fleet Fleet, perInstanceMax int, plan *PlanBudget) Budget {
	b := Budget{MaxConnections: l.MaxConnections, SuperuserReserved: l.SuperuserReserved,
		ReservedConnections: l.ReservedConnections, OtherConnections: l.OtherConnections,
		Available: l.Available(), Pooler: pooler, Instances: fleet.Instances, Surge: fleet.Surge,
		PerInstanceMax: perInstanceMax}
	b.Needed = (fleet.Instances + fleet.Surge) * perInstanceMax
	b.CarryInstances = carry(b.Available, perInstanceMax, fleet.Surge)
	b.Fits = b.Needed <= b.Available
	avail := availableText(l)
	switch {
	case pooler:
		b.Fits = true
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
		p := *plan
		p.Needed = (p.Instances + p.Surge) * p.Max
		p.Fits = pooler || p.Needed <= b.Available
		p.CarryInstances = carry(b.Available, p.Max, p.Surge)
		switch {
		case pooler:
			p.Message = fmt.Sprintf("the plan's (%d + %d surge) × max %d = %d connections go to the pooler; not judged here", p.Instances, p.Surge, p.Max, p.Needed)
		case p.Fits:
			p.Message = fmt.Sprintf("the plan's (%d instances + %d surge) × max %d = %d connections fit in %d available", p.Instances, p.Surge, p.Max, p.Needed, b.Available)
		default:
			p.Message = fmt.Sprintf("the plan's (%d instances + %d surge) × max %d = %d connections do NOT fit in %d available (%s): at max %d the database carries %d instances; preflight refuses this plan",
				p.Instances, p.Surge, p.Max, p.Needed, b.Available, avail, p.Max, p.CarryInstances)
		}
		b.Plan = &p
	}
	return b
}

func availableText(l pgpool.ServerLimits) string {
	s := fmt.Sprintf("max_connections %d − superuser_reserved %d", l.MaxConnections, l.SuperuserReserved)
	if l.ReservedConnections > 0 {
		s += fmt.Sprintf(" − reserved %d", l.ReservedConnections)
	}
	return s + fmt.Sprintf(" − %d other connections = %d available", l.OtherConnections, l.Available())
}
