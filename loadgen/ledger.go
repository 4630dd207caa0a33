package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// LedgerLine is one line of a journal entry (ledgerd's contract).
type LedgerLine struct {
	Account string `json:"account"`
	Amount  int64  `json:"amount"`
}

// LedgerBalance is an account's balance as the ledger reports it.
type LedgerBalance struct {
	Tenant  string `json:"tenant"`
	Account string `json:"account"`
	Balance int64  `json:"balance"`
	Entries int64  `json:"entries"`
}

// LedgerTrialBalance is a tenant's trial balance as the ledger reports it.
type LedgerTrialBalance struct {
	Tenant   string `json:"tenant"`
	Accounts []struct {
		Account string `json:"account"`
		Balance int64  `json:"balance"`
	} `json:"accounts"`
	Total int64 `json:"total"`
}

// ErrLedgerNotFound is returned by a Ledger for an unknown account.
var ErrLedgerNotFound = errors.New("not found")

// Ledger is what the ledger workload drives: ledgerd over HTTP
// (NewLedgerHTTP) or its store over SQL (package loadgen/sqlload).
type Ledger interface {
	PostEntry(ctx context.Context, tenant, description string, lines []LedgerLine) error
	// Balance returns ErrLedgerNotFound for an account the tenant does not have.
	Balance(ctx context.Context, tenant, account string) (LedgerBalance, error)
	TrialBalance(ctx context.Context, tenant string) (LedgerTrialBalance, error)
}

// LedgerOptions shape the ledger workload.
type LedgerOptions struct {
	Tenants  int // tenants, default 50
	Accounts int // checked accounts per tenant, default 8
	// Mix weighs the operations; zero value: post 40, balance 45,
	// trial balance 10, isolation 5.
	Mix struct{ Post, Balance, Trial, Isolation int }
	// Seed makes the run's choices and its tenant names reproducible; 0
	// picks a random one.
	Seed uint64
	// Settle is how long an account whose last post failed (its outcome is
	// unknown: it may still commit) is not checked; default 30s.
	Settle time.Duration
}

// account is one (tenant, account) the workload checks. Its mutex is held
// for the whole of a post or a balance read, so the expected balance is
// exact: no two requests of this workload touch it at once.
type account struct {
	mu        sync.Mutex
	tenant    int
	name      string
	expected  int64
	posted    bool      // a post to it succeeded: it must exist
	uncertain time.Time // a post failed: unchecked until then, then re-learned
}

// LedgerWorkload is a Target: a realistic mix of posts, balance reads and
// trial balances across many tenants, checking what it reads:
//
//   - a balance read reflects every post this workload made to that
//     account (each checked account is owned by one request at a time, so
//     the expected balance is known exactly);
//   - an account posted under tenant A, read under tenant B, is 404;
//   - a trial balance sums to zero, its rows add up to its total, and it
//     lists only the tenant's own accounts.
//
// A contradiction is a Result.Violation, not an error.
type LedgerWorkload struct {
	api      Ledger
	opts     LedgerOptions
	run      string // unique prefix of this run's tenants
	accounts []*account
	mu       sync.Mutex
	rng      *rand.Rand
	cum      [4]int
}

// NewLedgerWorkload returns the workload against api.
func NewLedgerWorkload(api Ledger, opts LedgerOptions) (*LedgerWorkload, error) {
	if opts.Tenants == 0 {
		opts.Tenants = 50
	}
	if opts.Accounts == 0 {
		opts.Accounts = 8
	}
	if opts.Mix.Post+opts.Mix.Balance+opts.Mix.Trial+opts.Mix.Isolation == 0 {
		opts.Mix.Post, opts.Mix.Balance, opts.Mix.Trial, opts.Mix.Isolation = 40, 45, 10, 5
	}
	if opts.Settle == 0 {
		opts.Settle = 30 * time.Second
	}
	m := opts.Mix
	if opts.Tenants < 2 || opts.Tenants > 100000 || opts.Accounts < 1 || opts.Accounts > 1000 ||
		m.Post < 0 || m.Balance < 0 || m.Trial < 0 || m.Isolation < 0 || m.Post == 0 {
		return nil, fmt.Errorf("ledger workload: want 2..100000 tenants, 1..1000 accounts per tenant and a mix with posts (got %d tenants, %d accounts, mix %+v)", opts.Tenants, opts.Accounts, m)
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	w := &LedgerWorkload{api: api, opts: opts, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	w.run = fmt.Sprintf("lg%06x", w.rng.Uint32()&0xffffff)
	w.cum = [4]int{m.Post, m.Post + m.Balance, m.Post + m.Balance + m.Trial, m.Post + m.Balance + m.Trial + m.Isolation}
	for t := range opts.Tenants {
		for a := range opts.Accounts {
			w.accounts = append(w.accounts, &account{tenant: t, name: fmt.Sprintf("acct%d-t%d", a, t)})
		}
	}
	return w, nil
}

// Tenant returns the id of tenant i of this run.
func (w *LedgerWorkload) Tenant(i int) string { return fmt.Sprintf("%s-%d", w.run, i) }

func (w *LedgerWorkload) intn(n int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rng.IntN(n)
}

// lockAny locks a random free account (a few tries), or returns nil.
func (w *LedgerWorkload) lockAny(wantPosted bool) *account {
	for range 8 {
		a := w.accounts[w.intn(len(w.accounts))]
		if a.mu.TryLock() {
			if !wantPosted || (a.posted && a.uncertain.IsZero()) {
				return a
			}
			a.mu.Unlock()
		}
	}
	return nil
}

// Do runs one operation of the mix.
func (w *LedgerWorkload) Do(ctx context.Context) (Result, error) {
	x := w.intn(w.cum[3])
	switch {
	case x < w.cum[0]:
		if a := w.lockAny(false); a != nil {
			defer a.mu.Unlock()
			return w.post(ctx, a)
		}
	case x < w.cum[1]:
		if a := w.lockAny(false); a != nil {
			defer a.mu.Unlock()
			return w.balance(ctx, a)
		}
	case x < w.cum[2]:
	default:
		if a := w.lockAny(true); a != nil {
			a.mu.Unlock() // only its name and tenant are used: both are fixed
			return w.isolation(ctx, a)
		}
	}
	return w.trial(ctx, w.intn(w.opts.Tenants))
}

func (w *LedgerWorkload) post(ctx context.Context, a *account) (Result, error) {
	amt := int64(w.intn(15000)) - 5000
	if amt == 0 {
		amt = 1
	}
	lines := []LedgerLine{{Account: a.name, Amount: amt}, {Account: "cash", Amount: -amt}}
	err := w.api.PostEntry(ctx, w.Tenant(a.tenant), "loadgen "+w.run, lines)
	if err != nil {
		a.uncertain = time.Now().Add(w.opts.Settle)
		return Result{Op: "post"}, err
	}
	a.expected += amt
	a.posted = true
	return Result{Op: "post"}, nil
}

func (w *LedgerWorkload) balance(ctx context.Context, a *account) (Result, error) {
	tenant := w.Tenant(a.tenant)
	b, err := w.api.Balance(ctx, tenant, a.name)
	res := Result{Op: "balance"}
	notFound := errors.Is(err, ErrLedgerNotFound)
	if err != nil && !notFound {
		return res, err
	}
	if !a.uncertain.IsZero() { // a post failed: re-learn once it has settled
		if time.Now().After(a.uncertain) {
			a.expected, a.posted, a.uncertain = b.Balance, !notFound, time.Time{}
		}
		return res, nil
	}
	switch {
	case notFound && a.posted:
		res.Violation = fmt.Errorf("tenant %s account %s: 404 after a successful post (expected balance %d)", tenant, a.name, a.expected)
	case notFound:
	case b.Tenant != tenant || b.Account != a.name:
		res.Violation = fmt.Errorf("asked tenant %s account %s, got tenant %q account %q", tenant, a.name, b.Tenant, b.Account)
	case b.Balance != a.expected:
		res.Violation = fmt.Errorf("tenant %s account %s: balance %d, expected %d after this run's posts", tenant, a.name, b.Balance, a.expected)
	}
	return res, nil
}

// isolation reads an account of tenant A under another tenant B: it must
// not be found.
func (w *LedgerWorkload) isolation(ctx context.Context, a *account) (Result, error) {
	other := (a.tenant + 1 + w.intn(w.opts.Tenants-1)) % w.opts.Tenants
	owner, tenant := w.Tenant(a.tenant), w.Tenant(other)
	b, err := w.api.Balance(ctx, tenant, a.name)
	res := Result{Op: "isolation"}
	switch {
	case errors.Is(err, ErrLedgerNotFound):
		return res, nil
	case err != nil:
		return res, err
	}
	res.Violation = fmt.Errorf("tenant %s sees tenant %s's account %s (balance %d)", tenant, owner, a.name, b.Balance)
	return res, nil
}

func (w *LedgerWorkload) trial(ctx context.Context, t int) (Result, error) {
	tenant := w.Tenant(t)
	tb, err := w.api.TrialBalance(ctx, tenant)
	res := Result{Op: "trial_balance"}
	if errors.Is(err, ErrLedgerNotFound) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	var sum int64
	suffix := fmt.Sprintf("-t%d", t)
	for _, ab := range tb.Accounts {
		sum += ab.Balance
		if ab.Account != "cash" && !(strings.HasPrefix(ab.Account, "acct") && strings.HasSuffix(ab.Account, suffix)) {
			res.Violation = fmt.Errorf("tenant %s's trial balance lists account %q, which this run never posted to it", tenant, ab.Account)
			return res, nil
		}
	}
	switch {
	case tb.Tenant != tenant:
		res.Violation = fmt.Errorf("asked the trial balance of tenant %s, got tenant %q's", tenant, tb.Tenant)
	case tb.Total != 0:
		res.Violation = fmt.Errorf("tenant %s's trial balance totals %d, want 0: an entry does not balance", tenant, tb.Total)
	case sum != tb.Total:
		res.Violation = fmt.Errorf("tenant %s's trial balance rows sum to %d but its total says %d", tenant, sum, tb.Total)
	}
	return res, nil
}

// Preflight reads a trial balance, to check that the ledger answers.
func (w *LedgerWorkload) Preflight(ctx context.Context) error {
	_, err := w.api.TrialBalance(ctx, w.Tenant(0))
	var se *StatusError
	if err != nil && !errors.Is(err, ErrLedgerNotFound) && !errors.As(err, &se) {
		return err
	}
	return nil
}
