package change

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
)

// holding serves /healthz for the fleet's instance "a": the size the
// fake driver set, with a pool that holds `total` connections whatever
// its min (a node-postgres service reporting min 20 and holding 1).
func holding(t *testing.T, f *fakeFleet, total int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		s := f.size["a"]
		f.mu.Unlock()
		json.NewEncoder(w).Encode(poolpilot.Health{Status: "ok", Service: "svc", Pool: poolpilot.PoolStats{Max: s.Max, Min: s.Min, Total: total}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func onePlan(t *testing.T, url string) *plan.Plan {
	p := threeInstancePlan(t)
	p.Instances = p.Instances[:1]
	p.Instances[0].Name, p.Instances[0].HealthURL = "a", url+"/healthz"
	p.Change.From, p.Change.To = plan.PoolSize{Max: 10, Min: 1}, plan.PoolSize{Max: 200, Min: 20}
	return p
}

func TestVerifyFailsWhenThePoolHoldsFewerThanMin(t *testing.T) {
	h := newHarness(t, onePlan(t, "http://unused"), "")
	srv := holding(t, h.fleet, 1)
	h.c.Plan.Instances[0].HealthURL = srv.URL + "/healthz"
	h.fleet.size = map[string]plan.PoolSize{"a": h.c.Plan.Change.From}
	h.c.Prober = HTTPProber{}
	out, err := h.c.Run(context.Background())
	if err != nil || out.State != StateRolledBack {
		t.Fatalf("outcome %+v err %v, want rolled-back", out, err)
	}
	rp := ReplayRecords(h.c.Journal.Records())
	for _, want := range []string{"verify failed", "a reports max 200 min 20", "holds 1 connection(s) (pool.total), fewer than min 20"} {
		if !strings.Contains(rp.Reason, want) {
			t.Errorf("reason %q lacks %q", rp.Reason, want)
		}
	}
}

func TestVerifyComparesBackends(t *testing.T) {
	cases := []struct {
		name   string
		counts map[string]int
		state  State
		want   string
	}{
		{"backends match the pools", map[string]int{"svc": 20}, StateSucceeded, `"ok": true`},
		{"fewer backends than min", map[string]int{"svc": 1}, StateRolledBack, "1 backend(s) in pg_stat_activity, fewer than min 20"},
		{"more backends than the pool: a warning", map[string]int{"svc": 45}, StateSucceeded, "45 backend(s) in pg_stat_activity, but the pools report 20"},
		{"no backend carries the name", map[string]int{"other": 3}, StateSucceeded, "not attributable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, onePlan(t, "http://unused"), "")
			srv := holding(t, h.fleet, 20)
			h.c.Plan.Instances[0].HealthURL = srv.URL + "/healthz"
			h.fleet.size = map[string]plan.PoolSize{"a": h.c.Plan.Change.From}
			h.c.Prober = HTTPProber{}
			h.c.Backends = func(context.Context) (map[string]int, error) { return tc.counts, nil }
			out, err := h.c.Run(context.Background())
			if err != nil || out.State != tc.state {
				t.Fatalf("outcome %+v err %v, want %s", out, err, tc.state)
			}
			got := h.rec.File("post_change_config.json") + ReplayRecords(h.c.Journal.Records()).Reason
			if !strings.Contains(got, tc.want) {
				t.Errorf("evidence lacks %q:\n%s", tc.want, got)
			}
		})
	}
}
