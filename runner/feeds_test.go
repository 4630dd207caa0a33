package runner

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// A service whose document has no requests object: the optional error-rate
// criterion is skipped (with an event), the others are kept.
func TestUnfedOptionalCriteriaAreSkipped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"schema":"1.0","status":"ok","time":"2026-12-03T10:00:00Z","pool":{"max":10,"min":2,"total":2,"acquired":0,"idle":2,"waiting":0,"utilization":0,"wait_p50_ms":0,"wait_p95_ms":0,"wait_p99_ms":0,"acquires":5,"acquire_timeouts":0,"server_refusals":0,"opened":2,"closed":0,"churn":0}}`)
	}))
	defer srv.Close()
	folder, err := evidence.Open(t.TempDir(), evidence.Options{Plan: "feeds"})
	if err != nil {
		t.Fatal(err)
	}
	p := &plan.Plan{Name: "feeds", Instances: []plan.Instance{{Name: "a", HealthURL: srv.URL + "/healthz"}}}
	r := &runner{p: p, folder: folder, clock: poolpilot.SystemClock{}, o: Options{Log: io.Discard}, ctl: &change.Controller{Prober: change.HTTPProber{}}}
	specs := []poolpilot.CriterionSpec{
		{Name: "err", Expr: "error_rate < 0.01", Role: poolpilot.RoleSuccess, Optional: true},
		{Name: "lat", Expr: "latency_p95_ms < 500", Role: poolpilot.RoleSuccess},
		{Name: "max", Expr: "pool.max == 10", Role: poolpilot.RoleSuccess, Optional: true},
	}
	kept := r.unfedOptional(context.Background(), specs)
	var names []string
	for _, c := range kept {
		names = append(names, c.Name)
	}
	if len(kept) != 2 || kept[0].Name != "lat" || kept[1].Name != "max" {
		t.Errorf("kept %v, want [lat max]: the optional err has no field to read, lat is not optional", names)
	}
}
