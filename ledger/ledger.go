package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Limits of a journal entry. They keep every sum the ledger computes far
// inside int64.
const (
	MaxLines          = 100                   // lines per entry
	MaxAmount         = 1_000_000_000_000_000 // |amount| of one line, in minor units (1e15)
	MaxDescriptionLen = 500                   // bytes
	MaxIDLen          = 64                    // tenant and account identifiers
)

// ErrNotFound is returned when a tenant's account does not exist.
var ErrNotFound = errors.New("not found")

// ValidationError is a request the ledger refuses. Unprocessable marks a
// well-formed entry that breaks an accounting rule (HTTP 422); otherwise the
// input itself is malformed (HTTP 400).
type ValidationError struct {
	Msg           string
	Unprocessable bool
}

func (e *ValidationError) Error() string { return e.Msg }

func badInput(format string, args ...any) error {
	return &ValidationError{Msg: fmt.Sprintf(format, args...)}
}

func brokenRule(format string, args ...any) error {
	return &ValidationError{Msg: fmt.Sprintf(format, args...), Unprocessable: true}
}

// Line is one line of a journal entry: positive amounts debit the account,
// negative amounts credit it.
type Line struct {
	Account string `json:"account"`
	Amount  int64  `json:"amount"`
}

// Entry is a journal entry. ID, Tenant and CreatedAt are set by PostEntry.
type Entry struct {
	ID          int64     `json:"id"`
	Tenant      string    `json:"tenant"`
	Description string    `json:"description"`
	Lines       []Line    `json:"lines"`
	CreatedAt   time.Time `json:"created_at"`
}

// Balance is the balance of one account of one tenant: the sum of its lines
// and the number of entries that touch it.
type Balance struct {
	Tenant  string `json:"tenant"`
	Account string `json:"account"`
	Balance int64  `json:"balance"`
	Entries int64  `json:"entries"`
}

// AccountBalance is one row of a trial balance.
type AccountBalance struct {
	Account string `json:"account"`
	Balance int64  `json:"balance"`
}

// TrialBalance lists every account of a tenant (by name) with its balance;
// Total is their sum and is zero in a healthy ledger.
type TrialBalance struct {
	Tenant   string           `json:"tenant"`
	Accounts []AccountBalance `json:"accounts"`
	Total    int64            `json:"total"`
}

// TenantImbalance is a tenant whose trial balance does not sum to zero.
type TenantImbalance struct {
	Tenant string `json:"tenant"`
	Total  int64  `json:"total"`
}

// IntegrityReport is the result of CheckIntegrity. When OK is false the
// lists name the offenders (at most MaxReported of each):
// UnbalancedEntries are entry ids whose lines do not sum to zero (or that
// have fewer than two lines), TenantImbalances are tenants whose trial
// balance is not zero, CrossTenantLines are line ids whose entry or account
// belongs to another tenant than the line (or is missing).
type IntegrityReport struct {
	OK                bool              `json:"ok"`
	CheckedEntries    int64             `json:"checked_entries"`
	CheckedTenants    int64             `json:"checked_tenants"`
	UnbalancedEntries []int64           `json:"unbalanced_entries,omitempty"`
	TenantImbalances  []TenantImbalance `json:"tenant_imbalances,omitempty"`
	CrossTenantLines  []int64           `json:"cross_tenant_lines,omitempty"`
}

// MarshalJSON writes {"ok":true,"checked_entries":N,"checked_tenants":M}
// for a healthy ledger and, otherwise, all three lists of offenders, empty
// ones as [].
func (r IntegrityReport) MarshalJSON() ([]byte, error) {
	if r.OK {
		return json.Marshal(struct {
			OK             bool  `json:"ok"`
			CheckedEntries int64 `json:"checked_entries"`
			CheckedTenants int64 `json:"checked_tenants"`
		}{r.OK, r.CheckedEntries, r.CheckedTenants})
	}
	type full struct {
		OK                bool              `json:"ok"`
		CheckedEntries    int64             `json:"checked_entries"`
		CheckedTenants    int64             `json:"checked_tenants"`
		UnbalancedEntries []int64           `json:"unbalanced_entries"`
		TenantImbalances  []TenantImbalance `json:"tenant_imbalances"`
		CrossTenantLines  []int64           `json:"cross_tenant_lines"`
	}
	f := full(r)
	if f.UnbalancedEntries == nil {
		f.UnbalancedEntries = []int64{}
	}
	if f.TenantImbalances == nil {
		f.TenantImbalances = []TenantImbalance{}
	}
	if f.CrossTenantLines == nil {
		f.CrossTenantLines = []int64{}
	}
	return json.Marshal(f)
}

// MaxReported caps each list of offenders in an IntegrityReport.
const MaxReported = 1000

// ValidID reports whether s is a valid tenant or account identifier:
// 1 to 64 characters from [a-z0-9_-].
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func checkID(kind, s string) error {
	if !ValidID(s) {
		return badInput("invalid %s %q: use 1 to %d characters from a-z, 0-9, '_' and '-'", kind, s, MaxIDLen)
	}
	return nil
}

// Validate checks an entry for tenant: identifiers (400) and accounting
// rules (422): at least two lines, no zero amount, |amount| ≤ MaxAmount, at
// most MaxLines lines, and lines that sum to zero.
func Validate(tenant string, e Entry) error {
	if err := checkID("tenant", tenant); err != nil {
		return err
	}
	if len(e.Description) > MaxDescriptionLen {
		return badInput("description is %d bytes long: at most %d allowed", len(e.Description), MaxDescriptionLen)
	}
	for i, l := range e.Lines {
		if err := checkID(fmt.Sprintf("account (line %d)", i+1), l.Account); err != nil {
			return err
		}
	}
	if len(e.Lines) < 2 {
		return brokenRule("an entry needs at least 2 lines, got %d", len(e.Lines))
	}
	if len(e.Lines) > MaxLines {
		return brokenRule("an entry has at most %d lines, got %d", MaxLines, len(e.Lines))
	}
	var sum int64
	for i, l := range e.Lines {
		switch {
		case l.Amount == 0:
			return brokenRule("line %d (account %q) has a zero amount", i+1, l.Account)
		case l.Amount > MaxAmount || l.Amount < -MaxAmount:
			return brokenRule("line %d (account %q) amount %d is out of range: |amount| must be at most %d", i+1, l.Account, l.Amount, int64(MaxAmount))
		}
		sum += l.Amount // cannot overflow: MaxLines × MaxAmount < 2^63
	}
	if sum != 0 {
		return brokenRule("entry does not balance: lines sum to %d", sum)
	}
	return nil
}
