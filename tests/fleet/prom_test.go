package fleet

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/promtest"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/source/prom"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

// The fleet-wide error rate over 5 s (1 s scrapes), and the same per
// instance. "or vector(0)" makes a fleet without any 5xx yet read 0, not
// an empty answer (a gap).
const (
	fleetErrorRate = `(sum(rate(http_requests_total{code=~"5.."}[5s])) or vector(0)) / sum(rate(http_requests_total[5s]))`
	instErrorRate  = `sum by (instance) (rate(http_requests_total{code=~"5.."}[5s])) / sum by (instance) (rate(http_requests_total[5s]))`
)

func specs(withInstance bool) []poolpilot.CriterionSpec {
	out := []poolpilot.CriterionSpec{{
		Name: "fleet-error-rate-high", Expr: "promql > 0.1", Query: fleetErrorRate,
		Role: poolpilot.RoleRollback, Class: poolpilot.ClassP0, For: poolpilot.Duration(3 * time.Second),
	}}
	if withInstance {
		out = append(out, poolpilot.CriterionSpec{
			Name: "instance-error-rate-high", Expr: "promql > 0.1", Query: instErrorRate,
			Role: poolpilot.RoleRollback, Class: poolpilot.ClassP1, For: poolpilot.Duration(3 * time.Second),
		})
	}
	return out
}

// TestFleetErrorRateTrigger: three ledgerd instances behind one load
// generator (90 requests/s in all, round robin), a real Prometheus
// scraping them every second, and the criteria engine reading PromQL.
// One instance at 15% errors keeps the fleet at ~5% (< 10%): the fleet
// trigger must not fire although the per-instance trigger does (so the
// fault is visible). The same instance at 60% takes the fleet to ~20%:
// the fleet trigger fires.
func TestFleetErrorRateTrigger(t *testing.T) {
	var insts []*ledgerdtest.Instance
	var addrs []string
	for i := 0; i < 3; i++ {
		in := ledgerdtest.Start(t, ledgerdtest.Options{AdminToken: "fleet-token"})
		insts = append(insts, in)
		addrs = append(addrs, in.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ps := promtest.New(t, promtest.Options{Targets: addrs, ScrapeInterval: time.Second, Job: "ledgerd"})
	if err := ps.WaitTargetsUp(ctx); err != nil {
		t.Fatal(err)
	}
	stopLoad := startLoad(t, ctx, insts, 90)
	defer stopLoad()

	insts[0].SetFaults(t, ledger.FaultSettings{ErrorRate: 0.15})
	waitFor(t, ctx, ps.URL, instErrorRate, func(v prom.Value) bool { return v.Instance == insts[0].Addr && v.Value > 0.1 })
	res := watch(t, ctx, ps.URL, specs(true), 8*time.Second)
	if res["fleet-error-rate-high"] != criteria.StateFiring && res["instance-error-rate-high"] == criteria.StateFiring {
		t.Logf("quiet phase: the sick instance fired its own trigger, the fleet stayed under the threshold")
	} else {
		t.Fatalf("quiet phase: worst states %v, want fleet never firing and instance firing", res)
	}

	insts[0].SetFaults(t, ledger.FaultSettings{ErrorRate: 0.6})
	res = watch(t, ctx, ps.URL, specs(false), 20*time.Second)
	if res["fleet-error-rate-high"] != criteria.StateFiring {
		t.Fatalf("degraded phase: fleet trigger %s, want firing", res["fleet-error-rate-high"])
	}
}

// startLoad sends rate requests/s round robin over the instances until the
// returned stop is called.
func startLoad(t *testing.T, ctx context.Context, insts []*ledgerdtest.Instance, rate float64) (stop func()) {
	t.Helper()
	client := loadgen.NewHTTPClient(16)
	var targets []*loadgen.HTTPTarget
	for _, in := range insts {
		tg, err := loadgen.NewHTTPTarget(loadgen.HTTPRequest{Method: http.MethodGet, URL: in.URL + "/v1/tenants/fleet/trial-balance"}, client)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, tg)
	}
	var n atomic.Uint64
	rr := loadgen.TargetFunc(func(ctx context.Context) (loadgen.Result, error) {
		return targets[n.Add(1)%uint64(len(targets))].Do(ctx)
	})
	sched, err := loadgen.Constant(rate)
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		loadgen.Run(lctx, loadgen.Config{Schedule: sched, Duration: 80 * time.Second, MaxInflight: 32, Timeout: 2 * time.Second}, rr)
	}()
	return func() { cancel(); <-done }
}

// waitFor polls query until one value satisfies ok.
func waitFor(t *testing.T, ctx context.Context, url, query string, ok func(prom.Value) bool) {
	t.Helper()
	src, err := prom.New(url, []string{query}, prom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		vals, err := src.Query(ctx, query)
		if err == nil {
			for _, v := range vals {
				if ok(v) {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: no wanted value before the deadline (last %v, %v)", query, vals, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// watch evaluates specs every 500 ms for d and returns each criterion's
// worst state seen.
func watch(t *testing.T, ctx context.Context, url string, specs []poolpilot.CriterionSpec, d time.Duration) map[string]criteria.State {
	t.Helper()
	var queries []string
	for _, s := range specs {
		queries = append(queries, s.Query)
	}
	src, err := prom.New(url, queries, prom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := criteria.New(specs, criteria.Options{Interval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	worst := map[string]criteria.State{}
	rank := map[criteria.State]int{criteria.StateOK: 1, criteria.StateInconclusive: 2, criteria.StatePending: 3, criteria.StateFiring: 4}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		samples, err := src.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		eng.Observe(samples...)
		ev := eng.Evaluate()
		var line string
		for _, r := range ev.Results {
			if rank[r.State] > rank[worst[r.Name]] {
				worst[r.Name] = r.State
			}
			v := "-"
			if r.Value != nil {
				v = fmt.Sprintf("%.3f", *r.Value)
			}
			line += fmt.Sprintf("  %s=%s(%s %s)", r.Name, r.State, v, r.Instance)
		}
		t.Log(line)
		if len(specs) == 1 && worst[specs[0].Name] == criteria.StateFiring {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	return worst
}
