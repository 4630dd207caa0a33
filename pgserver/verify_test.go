package pgserver

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/driver/admin"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/plan"
)

type filesRecorder struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (r *filesRecorder) Record(evidence.Event) error { return nil }
func (r *filesRecorder) WriteFile(name string, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[name] = data
	return nil
}

// Two real ledgerd instances resized live from 10:1 to 8:3: verify sees
// each pool hold its min and pg_stat_activity show the backends of
// application_name "ledgerd", and the run succeeds.
func TestVerifyCountsRealBackends(t *testing.T) {
	db := pgtest.NewDatabase(t)
	const token = "tok-verify-3f1c"
	p := &plan.Plan{Name: "verify-backends", Driver: plan.DriverAdmin,
		Change: plan.Change{From: plan.PoolSize{Max: 10, Min: 1}, To: plan.PoolSize{Max: 8, Min: 3}}}
	for _, name := range []string{"a", "b"} {
		l := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: db, AdminToken: token})
		p.Instances = append(p.Instances, plan.Instance{Name: name, HealthURL: l.URL + "/healthz", AdminTokenEnv: "TOKEN"})
	}
	p.Rollout.BatchSize, p.Rollout.VerifyTimeout = 2, poolpilot.Duration(15*time.Second)
	j, err := change.OpenJournal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rec := &filesRecorder{files: map[string][]byte{}}
	facts := Facts{Pool: openPool(t, db)}
	c := &change.Controller{Plan: p, Journal: j, Prober: change.HTTPProber{}, Recorder: rec, Clock: poolpilot.SystemClock{},
		Driver: &admin.Driver{Getenv: func(string) string { return token }}, Backends: facts.BackendsByApp}
	out, err := c.Run(context.Background())
	if err != nil || out.State != change.StateSucceeded {
		t.Fatalf("outcome %+v err %v", out, err)
	}
	var snap evidence.ConfigSnapshot
	if err := json.Unmarshal(rec.files[evidence.FilePostChangeConfig], &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Backends) != 1 {
		t.Fatalf("backends %+v, want one application name", snap.Backends)
	}
	bc := snap.Backends[0]
	if bc.ApplicationName != "ledgerd" || !bc.OK || bc.Min != 6 || bc.Backends < 6 || len(bc.Instances) != 2 {
		t.Errorf("backend check %+v, want ledgerd ok with ≥ 6 backends for min 3 × 2 instances", bc)
	}
	for _, ic := range snap.Instances {
		if ic.PoolTotal == nil || *ic.PoolTotal < 3 {
			t.Errorf("instance %s pool_total %v, want ≥ 3", ic.Name, ic.PoolTotal)
		}
	}
}
