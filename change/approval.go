package change

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// Files beside a plan's runs, in <evidence.dir>/<plan.name>/.
const (
	ApprovalsFile = "approvals.jsonl"
	TicksFile     = "checklist.jsonl"
	// UsedFile records which approvals let which run start: an approval is
	// for one execution, and a later run of the same plan (after a rollback,
	// say) needs new ones.
	UsedFile = "approvals-used.jsonl"
)

// Use is one line of UsedFile: the approvals (by Hash) a run started on.
type Use struct {
	RunID      string    `json:"run_id"`
	Time       time.Time `json:"time"`
	PlanSHA256 string    `json:"plan_sha256"`
	Approvals  []string  `json:"approvals"`
}

// MarkUsed records that run runID started on approvals as.
func MarkUsed(dir, runID string, p *plan.Plan, as []Approval, now time.Time) error {
	u := Use{RunID: runID, Time: now.UTC(), PlanSHA256: p.SHA256(), Approvals: []string{}}
	for _, a := range as {
		u.Approvals = append(u.Approvals, a.Hash)
	}
	return appendLine(dir, UsedFile, u)
}

// Approval is one person's written approval of one exact plan.
type Approval struct {
	By         string    `json:"by"`
	Statement  string    `json:"statement"`
	Time       time.Time `json:"time"`
	PlanName   string    `json:"plan_name"`
	PlanSHA256 string    `json:"plan_sha256"`
	// Hash is the SHA-256 of the fields above; an edited line no longer matches.
	Hash string `json:"hash"`
	// Signature is the base64 Ed25519 signature of the approval (see
	// evidence.Approval.SigningBytes) by the approver's key; PublicKey is
	// that key, for reference only: it is checked against the key the plan
	// lists for the approver, never trusted by itself.
	Signature string `json:"signature,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

// Evidence is the approval as the evidence folder records it.
func (a Approval) Evidence() evidence.Approval {
	return evidence.Approval{By: a.By, Statement: a.Statement, Time: a.Time, PlanSHA256: a.PlanSHA256, Signature: a.Signature, PublicKey: a.PublicKey}
}

func (a Approval) digest() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", a.By, a.Statement, a.Time.UTC().Format(time.RFC3339Nano), a.PlanName, a.PlanSHA256)
	return hex.EncodeToString(h.Sum(nil))
}

// Tick records that a person confirmed a manual checklist item.
type Tick struct {
	ID         string    `json:"id"`
	By         string    `json:"by"`
	Time       time.Time `json:"time"`
	PlanSHA256 string    `json:"plan_sha256"`
}

// PlanDir is <evidence.dir>/<plan.name>, resolved against base (the plan
// file's folder) when relative.
func PlanDir(p *plan.Plan, base string) string {
	dir := p.Evidence.Dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(base, dir)
	}
	return filepath.Join(dir, p.Name)
}

// Approve records an unsigned approval of p by a named person; a plan
// that lists approvers refuses it (use ApproveSigned).
func Approve(dir string, p *plan.Plan, by, statement string, now time.Time) (Approval, error) {
	return ApproveSigned(dir, p, by, statement, now, nil)
}

// ApproveSigned records an approval of p signed with key. When the plan
// lists approvers the key is required and must be the one listed for the
// approver; by may then be empty (the listed name is used) but must not
// name someone else.
func ApproveSigned(dir string, p *plan.Plan, by, statement string, now time.Time, key ed25519.PrivateKey) (Approval, error) {
	by, statement = strings.TrimSpace(by), strings.TrimSpace(statement)
	if p.Approvals.Signed() {
		if key == nil {
			return Approval{}, fmt.Errorf("plan %s lists its approvers (approvals.approvers): sign the approval with your private key, --signing-key FILE (made by 'poolpilot evidence keygen')", p.Name)
		}
		who, ok := listedKey(p, key.Public().(ed25519.PublicKey))
		if !ok {
			return Approval{}, fmt.Errorf("the signing key's public key %s is not listed in approvals.approvers of plan %s: use your own key, or add yours to the plan (which voids earlier approvals)", evidence.PublicKeyText(key.Public().(ed25519.PublicKey)), p.Name)
		}
		if by != "" && !strings.EqualFold(by, strings.TrimSpace(who.Name)) {
			return Approval{}, fmt.Errorf("the signing key is listed for %q, not %q: approve as yourself", who.Name, by)
		}
		by = strings.TrimSpace(who.Name)
	}
	if by == "" {
		return Approval{}, errors.New("--by is required: who approves")
	}
	want := p.Approvals.Statement
	if want != "" && !strings.EqualFold(statement, want) {
		return Approval{}, fmt.Errorf("the plan requires the statement %q (got %q)", want, statement)
	}
	if statement == "" {
		return Approval{}, errors.New("--statement is required: the approval in words")
	}
	a := Approval{By: by, Statement: statement, Time: now.UTC(), PlanName: p.Name, PlanSHA256: p.SHA256()}
	a.Hash = a.digest()
	if key != nil {
		s := evidence.SignApproval(key, a.Evidence())
		a.Signature, a.PublicKey = s.Signature, s.PublicKey
	}
	return a, appendLine(dir, ApprovalsFile, a)
}

// listedKey finds the approver of p whose public key is pub.
func listedKey(p *plan.Plan, pub ed25519.PublicKey) (plan.Approver, bool) {
	for _, a := range p.Approvals.Approvers {
		if k, err := evidence.ParsePublicKeyText(a.PublicKey); err == nil && k.Equal(pub) {
			return a, true
		}
	}
	return plan.Approver{}, false
}

// approvalProblem says why a does not count for plan p (SHA-256 sha), or
// "" when it does; usedBy maps an approval's Hash to the run that used it.
func approvalProblem(p *plan.Plan, sha string, a Approval, usedBy map[string]Use) string {
	switch {
	case a.Hash != a.digest():
		return fmt.Sprintf("approval by %s at %s was edited after it was recorded", a.By, a.Time.Format(time.RFC3339))
	case a.PlanName != p.Name:
		return fmt.Sprintf("approval by %s is for plan %q, not %q", a.By, a.PlanName, p.Name)
	case a.PlanSHA256 != sha:
		return fmt.Sprintf("approval by %s is for plan sha256 %s…; the plan is now %s…: it changed after approval, approve it again", a.By, short(a.PlanSHA256), short(sha))
	}
	if p.Approvals.Signed() {
		if why := checkSignature(p, a); why != "" {
			return why
		}
	}
	if u, ok := usedBy[a.Hash]; ok {
		return fmt.Sprintf("approval by %s at %s was used by run %s (started %s): an approval is for one run; approve again for a new one", a.By, a.Time.Format(time.RFC3339), u.RunID, u.Time.Format(time.RFC3339))
	}
	return ""
}

// checkSignature says why a, which passed the hash and plan checks, does
// not count for a plan that lists its approvers ("" when it counts).
func checkSignature(p *plan.Plan, a Approval) string {
	who, ok := p.Approvals.Approver(a.By)
	if !ok {
		return fmt.Sprintf("approval by %s: %s is not one of the plan's approvers (approvals.approvers)", a.By, a.By)
	}
	if a.Signature == "" {
		return fmt.Sprintf("approval by %s is not signed, and the plan requires signed approvals: poolpilot approve PLAN --signing-key FILE", a.By)
	}
	pub, err := evidence.ParsePublicKeyText(who.PublicKey)
	if err != nil { // plan validation refuses this; say it anyway
		return fmt.Sprintf("approval by %s: the plan's key for %s: %v", a.By, who.Name, err)
	}
	if err := evidence.VerifyApproval(pub, a.Evidence()); err != nil {
		return fmt.Sprintf("approval by %s: signature does not verify with the key the plan lists for %s (forged, edited, or signed with another key)", a.By, who.Name)
	}
	return ""
}

// TickItem records a checklist tick for item id of plan p.
func TickItem(dir string, p *plan.Plan, id, by string, now time.Time) (Tick, error) {
	if strings.TrimSpace(by) == "" {
		return Tick{}, errors.New("--by is required: who confirms the item")
	}
	found := false
	var ids []string
	for _, it := range p.Checklist {
		ids = append(ids, it.ID)
		found = found || it.ID == id
	}
	if !found {
		return Tick{}, fmt.Errorf("%q is not a checklist item of plan %s (items: %s)", id, p.Name, strings.Join(ids, ", "))
	}
	t := Tick{ID: id, By: strings.TrimSpace(by), Time: now.UTC(), PlanSHA256: p.SHA256()}
	return t, appendLine(dir, TicksFile, t)
}

func appendLine(dir, name string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("record %s: %w", name, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("record %s: %w", name, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("record %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readLines[T any](dir, name string) ([]T, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s line %d: %v", name, n, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// UnsignedApprovalsWarning is said by preflight, dry runs and runs of a plan
// that requires approvals but lists no approvers.
const UnsignedApprovalsWarning = "approvals are not signed: the plan lists no approvals.approvers, so anyone who can write approvals.jsonl can forge one; list each approver's public key (poolpilot evidence keygen) to require signatures"

// ApprovalStatus is what CheckApprovals found.
type ApprovalStatus struct {
	Valid    []Approval
	Problems []string
}

// CheckApprovals returns the approvals of dir that bind to p exactly and
// that no run has used yet, and an error when fewer than the plan requires
// remain: edited lines, approvals of another version of the plan, unsigned
// or forged ones when the plan lists its approvers, approvals a run already
// started on, and duplicates by one person do not count.
func CheckApprovals(dir string, p *plan.Plan) (ApprovalStatus, error) {
	return CheckApprovalsFor(dir, p, "")
}

// CheckApprovalsFor is CheckApprovals for run runID, which may reuse the
// approvals it started on itself (a resumed run).
func CheckApprovalsFor(dir string, p *plan.Plan, runID string) (ApprovalStatus, error) {
	all, err := readLines[Approval](dir, ApprovalsFile)
	if err != nil {
		return ApprovalStatus{}, fmt.Errorf("read approvals: %w", err)
	}
	uses, err := readLines[Use](dir, UsedFile)
	if err != nil {
		return ApprovalStatus{}, fmt.Errorf("read used approvals: %w", err)
	}
	usedBy := map[string]Use{}
	for _, u := range uses {
		if u.RunID == runID && runID != "" {
			continue
		}
		for _, h := range u.Approvals {
			if _, seen := usedBy[h]; !seen {
				usedBy[h] = u
			}
		}
	}
	var st ApprovalStatus
	sha := p.SHA256()
	seen := map[string]bool{}
	for _, a := range all {
		if why := approvalProblem(p, sha, a, usedBy); why != "" {
			st.Problems = append(st.Problems, why)
			continue
		}
		if by := strings.ToLower(a.By); !seen[by] {
			seen[by] = true
			st.Valid = append(st.Valid, a)
		}
	}
	if len(st.Valid) < p.Approvals.Required {
		msg := fmt.Sprintf("plan %s needs %d approval(s), has %d valid", p.Name, p.Approvals.Required, len(st.Valid))
		if len(st.Problems) > 0 {
			msg += ": " + strings.Join(st.Problems, "; ")
		}
		how := "--by NAME"
		if p.Approvals.Signed() {
			how = "--signing-key FILE"
		}
		return st, fmt.Errorf("%s; record one with: poolpilot approve PLAN %s --statement %q", msg, how, p.Approvals.Statement)
	}
	return st, nil
}

// CheckTicks returns the checklist items of p not yet ticked for this exact plan.
func CheckTicks(dir string, p *plan.Plan) (ticked map[string]Tick, missing []string, err error) {
	all, err := readLines[Tick](dir, TicksFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read checklist: %w", err)
	}
	sha := p.SHA256()
	ticked = map[string]Tick{}
	for _, t := range all {
		if t.PlanSHA256 == sha {
			ticked[t.ID] = t
		}
	}
	for _, it := range p.Checklist {
		if _, ok := ticked[it.ID]; !ok {
			missing = append(missing, it.ID)
		}
	}
	return ticked, missing, nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
