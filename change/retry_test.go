package change

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/driver/admin"
	"github.com/poolpilot/poolpilot/plan"
)

// blippy is a service with a live admin API whose PUTs numbered in fail
// (1-based) answer 503 or, for odd numbers, drop the connection.
type blippy struct {
	mu   sync.Mutex
	size plan.PoolSize
	puts int
	fail map[int]bool
}

func (b *blippy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.URL.Path == "/healthz" {
		json.NewEncoder(w).Encode(poolpilot.Health{Status: "ok", Pool: poolpilot.PoolStats{Max: b.size.Max, Min: b.size.Min, Total: b.size.Min}})
		return
	}
	b.puts++
	if b.fail[b.puts] {
		if b.puts%2 == 1 {
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		http.Error(w, `{"error":"restarting"}`, http.StatusServiceUnavailable)
		return
	}
	json.NewDecoder(r.Body).Decode(&b.size)
	json.NewEncoder(w).Encode(b.size)
}

// The first two PUTs of the rollback fail (a dropped connection, a 503):
// the admin driver retries them and the run ends rolled-back, not
// rollback-failed, with the retries in the deployment log.
func TestRollbackSurvivesTwoFailedPuts(t *testing.T) {
	svc := &blippy{size: plan.PoolSize{Max: 10, Min: 1}, fail: map[int]bool{2: true, 3: true}}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	p := onePlan(t, srv.URL)
	h := newHarness(t, p, "")
	h.c.Prober = HTTPProber{}
	noSleep := driver.Retry{Within: time.Minute, Sleep: func(context.Context, time.Duration) error { return nil }}
	h.c.Driver = &admin.Driver{Getenv: func(string) string { return "tok" }, Retry: noSleep}
	h.c.Phases.Soak = func(context.Context) (Verdict, error) {
		return Verdict{Rollback: true, Criterion: "error_rate_high", Reason: "error_rate 5 % > 1 %"}, nil
	}
	out, err := h.c.Run(context.Background())
	if err != nil || out.State != StateRolledBack {
		t.Fatalf("outcome %+v err %v, want rolled-back", out, err)
	}
	if svc.puts != 4 || svc.size != p.Change.From {
		t.Errorf("%d PUTs, service at %v; want 4 (apply, 2 failed, rollback) and %v", svc.puts, svc.size, p.Change.From)
	}
	log := h.rec.File("deployment_log.txt")
	for _, want := range []string{"attempt 1 failed (transient)", "attempt 2 failed (transient)", "503 Service Unavailable", "succeeded at attempt 3"} {
		if !strings.Contains(log, want) {
			t.Errorf("deployment log lacks %q:\n%s", want, log)
		}
	}
}
