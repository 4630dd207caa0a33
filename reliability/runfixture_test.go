package reliability

// A run fixture copied (trimmed) from cmd/poolpilot/cmd_run_test.go and
// cmd_run_process_test.go: two ledgerd instances at 10:2 on a fresh
// database, the seed plan with time compressed, approved and ticked, and
// the poolpilot binary run as a child process.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/runner"
)

const fixtureToken = "tok-FIXTURE-b41d07e2"

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// poolpilotBin builds cmd/poolpilot once per test binary.
func poolpilotBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "poolpilot-reliability-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "poolpilot")
		if out, err := exec.Command("go", "build", "-o", binPath, "github.com/poolpilot/poolpilot/cmd/poolpilot").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build poolpilot: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type runFixture struct {
	t        *testing.T
	dir      string
	planFile string
	p        *plan.Plan
	env      map[string]string
	lds      []*ledgerdtest.Instance
}

func newRunFixture(t *testing.T, soak time.Duration, extraEnv map[string]string) *runFixture {
	t.Helper()
	f := newRunFixtureOn(t, pgtest.NewDatabase(t), soak, extraEnv)
	f.approve()
	return f
}

// newRunFixtureOn writes the plan for ledgerd instances on db, unapproved.
func newRunFixtureOn(t *testing.T, db string, soak time.Duration, extraEnv map[string]string) *runFixture {
	t.Helper()
	if db == "" {
		db = pgtest.NewDatabase(t)
	}
	f := &runFixture{t: t, dir: t.TempDir(), env: map[string]string{"DATABASE_URL": db, "POOLPILOT_ADMIN_TOKEN": fixtureToken, "USER": "tester"}}
	var health []string
	for range 2 {
		env := map[string]string{"DB_POOL_MAX": "10", "DB_POOL_MIN": "2"}
		for k, v := range extraEnv {
			env[k] = v
		}
		ld := ledgerdtest.Start(t, ledgerdtest.Options{DatabaseURL: db, AdminToken: fixtureToken, Env: env})
		f.lds = append(f.lds, ld)
		health = append(health, ld.URL+"/healthz")
	}
	f.p = testPlan(t, "reliability", health, f.dir, soak)
	f.write()
	return f
}

// testPlan: baseline 1s, load test 2s, soak as given, trigger windows 2s,
// evaluations every 500ms, loose thresholds for a shared 2-core machine.
func testPlan(t *testing.T, name string, health []string, dir string, soak time.Duration) *plan.Plan {
	t.Helper()
	o := plan.SeedInitOptions()
	o.To = plan.PoolSize{Max: 100, Min: 10}
	o.Name, o.HealthURLs, o.EvidenceDir = name, health, filepath.Join(dir, "evidence")
	o.LoadRate = 30
	b, err := plan.Init(o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	p.Baseline.Duration = poolpilot.Duration(time.Second)
	p.LoadTest.Duration = poolpilot.Duration(2 * time.Second)
	p.Soak.Duration = poolpilot.Duration(soak)
	p.Window = plan.Window{}
	p.Database.OtherClients = 20
	p.Backup = plan.Backup{Check: "skip", SkipReason: "ephemeral test database", MaxAge: p.Backup.MaxAge}
	p.Soak.Rate = 20
	p.Evaluation.Interval = poolpilot.Duration(500 * time.Millisecond)
	p.Rollout.VerifyTimeout = poolpilot.Duration(20 * time.Second)
	loose := map[string]string{
		"error_rate_high": "error_rate > 0.1", "error_rate": "error_rate < 0.1",
		"error_rate_no_regression": "error_rate <= baseline + 0.1", "pool_wait_p95": "pool.wait_p95_ms < 500",
	}
	var kept []poolpilot.CriterionSpec
	for _, c := range p.Criteria {
		if c.Name == "latency_p95_no_regression" {
			continue
		}
		if e, ok := loose[c.Name]; ok {
			c.Expr = e
		}
		switch {
		case c.Role == poolpilot.RoleSuccess:
			c.For = poolpilot.Duration(4 * time.Second)
		case c.For > 0:
			c.For = poolpilot.Duration(2 * time.Second)
		}
		kept = append(kept, c)
	}
	p.Criteria = kept
	return p
}

func (f *runFixture) write() {
	f.t.Helper()
	f.planFile = filepath.Join(f.dir, "plan.yaml")
	if err := os.WriteFile(f.planFile, f.p.YAML(), 0o644); err != nil {
		f.t.Fatal(err)
	}
	p, err := plan.Load(f.planFile)
	if err != nil {
		f.t.Fatalf("test plan does not load: %v", err)
	}
	f.p = p
}

func (f *runFixture) approve() {
	f.t.Helper()
	if _, stderr, code := f.cli(time.Minute, "approve", f.planFile, "--by", "Jane Doe", "--statement", f.p.Approvals.Statement); code != 0 {
		f.t.Fatalf("approve: %s", stderr)
	}
	f.tick(f.planFile)
}

// tick ticks every checklist item of the plan in planFile.
func (f *runFixture) tick(planFile string) {
	f.t.Helper()
	for _, it := range f.p.Checklist {
		if _, stderr, code := f.cli(time.Minute, "checklist", "tick", it.ID, "--plan", planFile, "--by", "Jane Doe"); code != 0 {
			f.t.Fatalf("tick: %s", stderr)
		}
	}
}

func (f *runFixture) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, poolpilotBin(f.t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range f.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// cli runs the binary to completion, bounded by d.
func (f *runFixture) cli(d time.Duration, args ...string) (string, string, int) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := f.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			f.t.Fatalf("poolpilot %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// start runs the binary in the background; cleanup kills it.
func (f *runFixture) start(args ...string) *exec.Cmd {
	f.t.Helper()
	cmd := f.command(context.Background(), args...)
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func (f *runFixture) kill9(cmd *exec.Cmd) {
	f.t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		f.t.Fatal(err)
	}
	_ = cmd.Wait()
}

func (f *runFixture) planDir() string { return filepath.Join(f.dir, "evidence", f.p.Name) }

func (f *runFixture) runDirs() []string {
	m, _ := filepath.Glob(filepath.Join(f.planDir(), "2*"))
	var out []string
	for _, d := range m {
		if !strings.HasSuffix(d, runner.ControlSuffix) {
			out = append(out, d)
		}
	}
	return out
}

// journalStates lists the states of a run's journal in order.
func journalStates(dir string) []string {
	b, _ := os.ReadFile(filepath.Join(runner.ControlDir(dir), change.JournalFile))
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e struct {
			State string `json:"state"`
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.State != "" {
			out = append(out, e.State)
		}
	}
	return out
}

// waitState polls (5 ms) until a run's journal shows state; it returns the
// run folder.
func (f *runFixture) waitState(state change.State, timeout time.Duration) string {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, d := range f.runDirs() {
			for _, s := range journalStates(d) {
				if s == string(state) {
					return d
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.t.Fatalf("no run reached %s within %s", state, timeout)
	return ""
}

// sizes returns each instance's pool max:min from /healthz.
func (f *runFixture) sizes() []plan.PoolSize {
	f.t.Helper()
	var out []plan.PoolSize
	for _, ld := range f.lds {
		resp, err := http.Get(ld.URL + "/healthz")
		if err != nil {
			f.t.Fatal(err)
		}
		var h poolpilot.Health
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, plan.PoolSize{Max: h.Pool.Max, Min: h.Pool.Min})
	}
	return out
}

func (f *runFixture) allAt(want plan.PoolSize) bool {
	for _, s := range f.sizes() {
		if s != want {
			return false
		}
	}
	return true
}
