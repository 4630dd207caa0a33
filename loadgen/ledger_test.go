package loadgen

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// memLedger is an in-memory ledger with switchable bugs, to prove that the
// workload's checks catch them. (The workload against the real ledgerd and
// PostgreSQL is tested in loadgen/sqlload and cmd/poolpilot.)
type memLedger struct {
	mu       sync.Mutex
	bal      map[string]map[string]int64 // tenant → account → balance
	leak     bool                        // Balance ignores the tenant
	stale    bool                        // every 3rd post is acknowledged but lost
	unbalanc bool                        // the trial balance total is off by one
	posts    int
}

func newMemLedger() *memLedger { return &memLedger{bal: map[string]map[string]int64{}} }

func (m *memLedger) PostEntry(_ context.Context, tenant, _ string, lines []LedgerLine) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.posts++
	if m.stale && m.posts%3 == 0 {
		return nil
	}
	if m.bal[tenant] == nil {
		m.bal[tenant] = map[string]int64{}
	}
	for _, l := range lines {
		m.bal[tenant][l.Account] += l.Amount
	}
	return nil
}

func (m *memLedger) Balance(_ context.Context, tenant, account string) (LedgerBalance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for t, accts := range m.bal {
		if t != tenant && !m.leak {
			continue
		}
		if b, ok := accts[account]; ok {
			return LedgerBalance{Tenant: tenant, Account: account, Balance: b}, nil
		}
	}
	return LedgerBalance{}, ErrLedgerNotFound
}

func (m *memLedger) TrialBalance(_ context.Context, tenant string) (LedgerTrialBalance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tb := LedgerTrialBalance{Tenant: tenant}
	for a, b := range m.bal[tenant] {
		tb.Accounts = append(tb.Accounts, struct {
			Account string `json:"account"`
			Balance int64  `json:"balance"`
		}{a, b})
		tb.Total += b
	}
	if m.unbalanc && len(tb.Accounts) > 0 {
		tb.Accounts[0].Balance++
		tb.Total++
	}
	return tb, nil
}

func runLedger(t *testing.T, api Ledger) *Report {
	t.Helper()
	w, err := NewLedgerWorkload(api, LedgerOptions{Tenants: 4, Accounts: 3, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := Constant(400)
	rep, err := Run(context.Background(), Config{Schedule: s, Duration: time.Second}, w)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestLedgerWorkloadCorrectLedgerHasNoViolations(t *testing.T) {
	t.Parallel()
	rep := runLedger(t, newMemLedger())
	if rep.Violations != 0 || rep.Errors != 0 {
		t.Fatalf("violations %d errors %d against a correct ledger: %v", rep.Violations, rep.Errors, rep.ViolationSamples)
	}
	for _, op := range []string{"post", "balance", "trial_balance", "isolation"} {
		if rep.Ops[op] == 0 {
			t.Errorf("op %s never ran: %v", op, rep.Ops)
		}
	}
}

func TestLedgerWorkloadCatchesBugs(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		l    *memLedger
		want string
	}{
		"cross-tenant read": {&memLedger{bal: map[string]map[string]int64{}, leak: true}, "sees tenant"},
		"lost post":         {&memLedger{bal: map[string]map[string]int64{}, stale: true}, "expected"},
		"unbalanced":        {&memLedger{bal: map[string]map[string]int64{}, unbalanc: true}, "want 0"},
	} {
		rep := runLedger(t, c.l)
		if rep.Violations == 0 || rep.Errors != 0 {
			t.Errorf("%s: violations %d errors %d; want violations, counted apart from errors", name, rep.Violations, rep.Errors)
			continue
		}
		found := false
		for _, s := range rep.ViolationSamples {
			found = found || strings.Contains(s, c.want)
		}
		if !found {
			t.Errorf("%s: no violation mentions %q: %v", name, c.want, rep.ViolationSamples)
		}
	}
}

func TestLedgerOptionsRejected(t *testing.T) {
	for _, o := range []LedgerOptions{{Tenants: 1}, {Accounts: -1}, {Tenants: 200000}} {
		if _, err := NewLedgerWorkload(newMemLedger(), o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}
