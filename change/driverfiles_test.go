package change_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/driver/admin"
	"github.com/poolpilot/poolpilot/driver/restart"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// driverFiles are the seed's evidence files the change path writes, which
// differ by driver; the runner writes the others whatever the driver.
var driverFiles = []string{evidence.FileConfigDiff, evidence.FileDeploymentLog, evidence.FileRestartLog, evidence.FilePostChangeConfig}

// liveService is /healthz and PUT /admin/pool of one instance.
type liveService struct {
	mu   sync.Mutex
	size plan.PoolSize
}

func (s *liveService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method == http.MethodPut {
		json.NewDecoder(r.Body).Decode(&s.size)
	}
	json.NewEncoder(w).Encode(poolpilot.Health{Status: "ok", Pool: poolpilot.PoolStats{Max: s.size.Max, Min: s.size.Min, Total: s.size.Min}})
}

// envService serves /healthz from an env file, as a restarted process
// would read it.
func envService(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := os.ReadFile(path)
		var p poolpilot.PoolStats
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, "=")
			n, _ := strconv.Atoi(v)
			switch k {
			case "DB_POOL_MAX":
				p.Max = n
			case "DB_POOL_MIN":
				p.Min, p.Total = n, n
			}
		}
		json.NewEncoder(w).Encode(poolpilot.Health{Status: "ok", Pool: p})
	}
}

func runWith(t *testing.T, p *plan.Plan, d change.Driver, pr change.Prober) *evidence.MemRecorder {
	t.Helper()
	j, err := change.OpenJournal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	rec := &evidence.MemRecorder{}
	c := &change.Controller{Plan: p, Journal: j, Driver: d, Prober: pr, Recorder: rec, Clock: poolpilot.SystemClock{}}
	if out, err := c.Run(context.Background()); err != nil || out.State != change.StateSucceeded {
		t.Fatalf("outcome %+v err %v", out, err)
	}
	return rec
}

func seedPlan(t *testing.T, driver string) *plan.Plan {
	t.Helper()
	p := kubePlan(t)
	p.Driver, p.Instances = driver, p.Instances[:1]
	p.Change.From, p.Change.To = plan.PoolSize{Max: 10, Min: 2}, plan.PoolSize{Max: 200, Min: 20}
	p.Rollout.VerifyTimeout = poolpilot.Duration(10 * time.Second)
	return p
}

// Every seed evidence file of the change path exists for every driver;
// restart_log.txt says what restarted, or for admin that nothing needed
// to and which live resizes were made.
func TestEverySeedChangeFileForEveryDriver(t *testing.T) {
	t.Run("admin", func(t *testing.T) {
		svc := &liveService{size: plan.PoolSize{Max: 10, Min: 2}}
		srv := httptest.NewServer(svc)
		defer srv.Close()
		p := seedPlan(t, plan.DriverAdmin)
		p.Instances[0] = plan.Instance{Name: "a", HealthURL: srv.URL + "/healthz", AdminTokenEnv: "T"}
		rec := runWith(t, p, &admin.Driver{Getenv: func(string) string { return "tok" }}, change.HTTPProber{})
		hasFiles(t, rec)
		log := rec.File(evidence.FileRestartLog)
		for _, want := range []string{"No restart was needed", "a  max 10 min 2 -> max 200 min 20  HTTP 200"} {
			if !strings.Contains(log, want) {
				t.Errorf("restart_log.txt lacks %q:\n%s", want, log)
			}
		}
	})
	t.Run("restart", func(t *testing.T) {
		env := filepath.Join(t.TempDir(), "svc.env")
		srv := httptest.NewServer(envService(env))
		defer srv.Close()
		p := seedPlan(t, plan.DriverRestart)
		p.Instances[0] = plan.Instance{Name: "a", HealthURL: srv.URL + "/healthz", EnvFile: env, RestartCommand: []string{"sh", "-c", "echo restarted svc"}}
		rec := runWith(t, p, &restart.Driver{}, change.HTTPProber{})
		hasFiles(t, rec)
		if log := rec.File(evidence.FileRestartLog); !strings.Contains(log, "restarted svc") {
			t.Errorf("restart_log.txt:\n%s", log)
		}
	})
	t.Run("kube", func(t *testing.T) {
		c := newCluster(t, []corev1.EnvVar{{Name: "DB_POOL_MAX", Value: "10"}, {Name: "DB_POOL_MIN", Value: "2"}})
		_, rec := runKube(t, c, func(context.Context) (change.Verdict, error) { return change.Verdict{}, nil })
		hasFiles(t, rec)
		log := rec.File(evidence.FileRestartLog)
		if !strings.Contains(log, "Kubernetes restarts its pods") || !strings.Contains(log, "rollout complete") {
			t.Errorf("restart_log.txt:\n%s", log)
		}
	})
}

func hasFiles(t *testing.T, rec *evidence.MemRecorder) {
	t.Helper()
	for _, name := range driverFiles {
		if rec.File(name) == "" {
			t.Errorf("%s not written", name)
		}
	}
}
