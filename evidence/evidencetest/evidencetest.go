// Package evidencetest builds complete, deterministic evidence folders for
// tests of the evidence package, the report and the dashboard: a fixed
// clock, a fixed run id, a fixed signing key and a known planted secret.
package evidencetest

import (
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
)

// Fixed values of every fixture folder.
const (
	Plan  = "phase1_pool_scaling"
	RunID = "20260201T020000Z-f1x7d0"
	// Secrets planted in the fixture's inputs; none may reach a file.
	DBPassword = "hunter2-db-pass"
	AdminToken = "s3cr3t-admin-token-0451"
)

// Start is the fixture run's start time.
var Start = time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)

// Key is the fixture's signing key (from a fixed seed).
var Key = ed25519.NewKeyFromSeed([]byte("poolpilot-evidence-fixture-seed!"))

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Scenario chooses how the fixture run ends.
type Scenario int

const (
	Success  Scenario = iota // all criteria hold, succeeded
	Rollback                 // latency trigger fires during the soak, rolled back
	Refused                  // preflight refuses: no baseline, no load test
)

// Build writes a closed, signed fixture run folder under evidenceDir and
// returns its path.
func Build(t testing.TB, evidenceDir string, sc Scenario) string {
	t.Helper()
	b := &builder{t: t, clock: NewClock(Start)}
	f, err := evidence.Open(evidenceDir, evidence.Options{
		Plan: Plan, RunID: RunID, Clock: b.clock, SigningKey: Key,
		Actor: "poolpilot", Secrets: []string{AdminToken},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.f = f
	b.preflight(sc)
	if sc != Refused {
		b.approve()
		b.baseline()
		b.apply(false)
		b.verify(200, 20)
		b.loadTest()
		b.soak(sc)
	}
	if _, err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Dir()
}

type builder struct {
	t     testing.TB
	f     *evidence.Folder
	clock *Clock
	state string
}

func (b *builder) must(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
}

func (b *builder) to(state, reason string) {
	b.t.Helper()
	b.must(b.f.Record(evidence.StateChange{From: b.state, To: state, Reason: reason}))
	b.state = state
}

func (b *builder) at(d time.Duration) { b.clock.Set(Start.Add(d)) }

func ptr(v float64) *float64 { return &v }

// PlanYAML is the fixture's plan; it holds a DSN with a password, which
// must be redacted in plan.yaml.
var PlanYAML = fmt.Sprintf(`# poolpilot plan: the seed's Phase 1
name: phase1_pool_scaling
database:
  dsn_env: DATABASE_URL
  # a careless operator pasted the DSN here:
  note: postgres://ledger:%s@127.0.0.1:5432/ledger?sslmode=disable
instances:
  - name: ledgerd-1
    health: http://127.0.0.1:8081/healthz
    admin_token_env: POOLPILOT_ADMIN_TOKEN
  - name: ledgerd-2
    health: http://127.0.0.1:8082/healthz
    admin_token_env: POOLPILOT_ADMIN_TOKEN
change:
  from: {max: 10, min: 2}
  to: {max: 200, min: 20}
soak: 2m
`, DBPassword)

func (b *builder) preflight(sc Scenario) {
	b.must(b.f.Write(evidence.FilePlan, []byte(PlanYAML)))
	b.must(b.f.Record(evidence.PlanLoaded{Name: Plan, SHA256: "9f2c7ab0d41e55f6a1b3c9d8e7f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b"}))
	b.to("preflight", "")
	budgetOK := sc != Refused
	items := []evidence.ChecklistItem{
		{ID: "db-reachable", Title: "Database reachable", Kind: "auto", Status: "pass", Detail: "SELECT 1 in 2 ms"},
		{ID: "budget", Title: "Connection budget: instances × max ≤ max_connections − reserved", Kind: "auto", Status: "pass", Detail: "2 × 200 + 3 other = 403 ≤ 500 − 3"},
		{ID: "baseline-health", Title: "Baseline health: error rate < 0.1%, p95 < 500 ms", Kind: "auto", Status: "pass", Detail: "error rate 0.02%, p95 41 ms"},
		{ID: "backup", Title: "Database backup < 24 h, restore tested", Kind: "manual", Status: "pass", By: "alice"},
		{ID: "oncall", Title: "On-call engineer briefed", Kind: "manual", Status: "pass", By: "alice"},
	}
	if !budgetOK {
		items[1].Status, items[1].Detail = "fail", "2 × 200 + 3 other = 403 > 100 − 3 = 97: raise max_connections or lower max"
	}
	for i := range items {
		b.clock.Advance(time.Second)
		items[i].Time = b.clock.Now()
		b.must(b.f.RecordAs(actorOf(items[i]), items[i]))
	}
	b.must(b.f.WriteJSON(evidence.FileChecklist, evidence.Checklist{Items: items, Passed: budgetOK}))
	if !budgetOK {
		b.to("refused", "preflight: connection budget exceeded (403 > 97)")
	}
}

func actorOf(it evidence.ChecklistItem) string {
	if it.By != "" {
		return it.By
	}
	return "poolpilot"
}

// PublicKey is Key's public half.
var PublicKey = Key.Public().(ed25519.PublicKey)
