package preflight_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/advisor"
	"github.com/poolpilot/poolpilot/budget"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/plan/plantest"
	"github.com/poolpilot/poolpilot/preflight"
)

// limitsFacts is a database with fixed limits and no archived WAL.
type limitsFacts struct{ l budget.Limits }

func (f limitsFacts) Limits(context.Context) (budget.Limits, error) { return f.l, nil }
func (f limitsFacts) LastArchived(context.Context) (time.Time, error) {
	return time.Time{}, nil
}

// idleProber answers every instance at the plan's change.from, its pool
// holding held connections.
type idleProber struct{ max, min, held int }

func (p idleProber) Health(context.Context, plan.Instance) (poolpilot.Health, error) {
	return poolpilot.Health{Status: "ok", Pool: poolpilot.PoolStats{Max: p.max, Min: p.min, Total: p.held}}, nil
}

func seedPlan(t *testing.T) *plan.Plan {
	t.Helper()
	p := plantest.Seed(t)
	p.Backup.Check, p.Backup.SkipReason = "skip", "test"
	return p
}

// TestAdvisorAndPreflightAgree sends the same plan and the same server
// facts through poolpilot size's plan budget (advisor.NewPlanBudget,
// advisor.FleetBudget) and through preflight's connection_budget check:
// both fit or both refuse, with the same largest max that fits.
func TestAdvisorAndPreflightAgree(t *testing.T) {
	pg := budget.Limits{MaxConnections: 100, SuperuserReserved: 3, OtherConnections: 4}
	cases := []struct {
		name   string
		limits budget.Limits
		edit   func(*plan.Plan)
		fits   bool
		maxFit int
	}{
		{"the seed's max 200 on a default server", pg, nil, false, 93},
		{"max 30 fits", pg, func(p *plan.Plan) { p.Change.To.Max = 30 }, true, 93},
		{"four processes count four pools", pg, func(p *plan.Plan) { p.Change.To.Max, p.Instances[0].Processes = 30, 4 }, false, 23},
		{"max instances, surge and processes", pg, func(p *plan.Plan) {
			p.Change.To.Max, p.Instances[0].Processes, p.Rollout.MaxInstances, p.Rollout.Surge = 10, 2, 3, 1
		}, true, 11},
		{"the plan's other clients, not those connected", pg, func(p *plan.Plan) {
			p.Change.To.Max, p.Instances[0].Processes, p.Database.OtherClients = 30, 3, 20
		}, false, 25},
		{"reserved_connections, nobody connected, fits exactly", budget.Limits{MaxConnections: 50, SuperuserReserved: 3, ReservedConnections: 5},
			func(p *plan.Plan) { p.Change.To.Max = 42 }, true, 42},
		{"more other clients than the server takes", pg, func(p *plan.Plan) { p.Change.To.Max, p.Database.OtherClients = 1, 150 }, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := seedPlan(t)
			if tc.edit != nil {
				tc.edit(p)
			}
			from := p.Change.From
			pf := &preflight.Checker{Plan: p, PlanDir: t.TempDir(), Server: limitsFacts{tc.limits},
				Prober: idleProber{max: from.Max, min: from.Min}, Getenv: func(string) string { return "" }, Clock: poolpilot.SystemClock{}}
			var check *preflight.Check
			rep := pf.Run(context.Background())
			for i := range rep.Checks {
				if rep.Checks[i].ID == "connection_budget" {
					check = &rep.Checks[i]
				}
			}
			if check == nil {
				t.Fatal("no connection_budget check")
			}
			pb, ok := check.Data.(preflight.Budget)
			if !ok {
				t.Fatalf("connection_budget data %T: %s", check.Data, check.Detail)
			}
			adv := advisor.FleetBudget(tc.limits, false, advisor.Fleet{Instances: 1}, 4, advisor.NewPlanBudget(p, "")).Plan

			preflightFits := check.Status == preflight.CheckPass
			if preflightFits != tc.fits || adv.Fits != tc.fits {
				t.Errorf("fits: preflight %v (%s), advisor %v (%s), want %v", preflightFits, check.Detail, adv.Fits, adv.Message, tc.fits)
			}
			if pb.MaxFit() != tc.maxFit || adv.MaxFit != tc.maxFit {
				t.Errorf("largest max that fits: preflight %d, advisor %d, want %d", pb.MaxFit(), adv.MaxFit, tc.maxFit)
			}
			if !tc.fits {
				for _, want := range []string{fmt.Sprintf("at most %d", tc.maxFit)} {
					if !strings.Contains(check.Detail, want) {
						t.Errorf("preflight detail lacks %q: %s", want, check.Detail)
					}
				}
				if !strings.Contains(adv.Message, fmt.Sprintf("the largest max that fits is %d; preflight refuses this plan", tc.maxFit)) {
					t.Errorf("advisor message: %s", adv.Message)
				}
			}
			if pb.Instances != adv.Instances || pb.Surge != adv.Surge {
				t.Errorf("pools: preflight %d + %d surge, advisor %d + %d", pb.Instances, pb.Surge, adv.Instances, adv.Surge)
			}
		})
	}
}

// Behind a pooler preflight judges pooler_budget, not connection_budget;
// the advisor does not judge the plan either and says where it is judged.
func TestAdvisorLeavesAPoolerPlanToPreflight(t *testing.T) {
	p := seedPlan(t)
	p.Database.PoolerMaxClients = 150
	from := p.Change.From
	pf := &preflight.Checker{Plan: p, PlanDir: t.TempDir(), Server: limitsFacts{budget.Limits{MaxConnections: 100, SuperuserReserved: 3}},
		Prober: idleProber{max: from.Max, min: from.Min}, Getenv: func(string) string { return "" }, Clock: poolpilot.SystemClock{}}
	statuses := map[string]preflight.Check{}
	for _, c := range pf.Run(context.Background()).Checks {
		statuses[c.ID] = c
	}
	if c := statuses["connection_budget"]; c.Status != preflight.CheckSkip {
		t.Errorf("connection_budget %s: %s", c.Status, c.Detail)
	}
	if c := statuses["pooler_budget"]; c.Status != preflight.CheckFail || !strings.Contains(c.Detail, "= 200 > (DOES NOT FIT) pooler_max_clients 150") ||
		!strings.Contains(c.Detail, "at most 150") {
		t.Errorf("pooler_budget %s: %s", c.Status, c.Detail)
	}
	adv := advisor.FleetBudget(budget.Limits{MaxConnections: 100, SuperuserReserved: 3}, false, advisor.Fleet{Instances: 1}, 4, advisor.NewPlanBudget(p, "")).Plan
	if !adv.Fits || !strings.Contains(adv.Message, "preflight checks them in pooler_budget") {
		t.Errorf("advisor judged a plan behind a pooler: %+v", adv)
	}
}
