package change

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// signedPlan is the seed plan requiring 2 approvals from Jane and Raj,
// whose keys it lists.
func signedPlan(t *testing.T) (p *plan.Plan, jane, raj, mallory ed25519.PrivateKey) {
	t.Helper()
	key := func() ed25519.PrivateKey {
		_, k, err := evidence.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	jane, raj, mallory = key(), key(), key()
	p = testPlan(t, nil)
	p.Approvals.Required = 2
	p.Approvals.Approvers = []plan.Approver{
		{Name: "Jane Doe", PublicKey: evidence.PublicKeyText(jane.Public().(ed25519.PublicKey))},
		{Name: "Raj Patel", PublicKey: pemPublic(t, raj)},
	}
	// Through YAML and back: what a user writes is what is checked.
	q, err := plan.Parse(p.YAML())
	if err != nil {
		t.Fatal(err)
	}
	return q, jane, raj, mallory
}

func pemPublic(t *testing.T, k ed25519.PrivateKey) string {
	b, err := evidence.MarshalPublicKey(k.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSignedApprovals(t *testing.T) {
	dir := t.TempDir()
	p, jane, raj, mallory := signedPlan(t)
	now := time.Date(2026, 2, 1, 1, 0, 0, 0, time.UTC)
	st := p.Approvals.Statement
	refused := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", what, err, want)
		}
	}
	_, err := Approve(dir, p, "Jane Doe", st, now)
	refused("unsigned", err, "--signing-key")
	_, err = ApproveSigned(dir, p, "Mallory", st, now, mallory)
	refused("unlisted key", err, "is not listed in approvals.approvers")
	_, err = ApproveSigned(dir, p, "Raj Patel", st, now, jane)
	refused("someone else's name", err, `listed for "Jane Doe", not "Raj Patel"`)
	if b, _ := os.ReadFile(filepath.Join(dir, ApprovalsFile)); len(b) != 0 {
		t.Fatalf("refused approvals were written: %s", b)
	}

	a, err := ApproveSigned(dir, p, "", st, now, jane)
	if err != nil || a.By != "Jane Doe" || a.Signature == "" {
		t.Fatalf("Jane's approval: %+v %v", a, err)
	}
	if _, err := CheckApprovals(dir, p); err == nil || !strings.Contains(err.Error(), "needs 2 approval(s), has 1 valid") || !strings.Contains(err.Error(), "--signing-key FILE") {
		t.Fatalf("one of two: %v", err)
	}
	if _, err := ApproveSigned(dir, p, "raj patel", st, now.Add(time.Minute), raj); err != nil {
		t.Fatal(err)
	}
	got, err := CheckApprovals(dir, p)
	if err != nil || len(got.Valid) != 2 || len(got.Problems) != 0 {
		t.Fatalf("two signed approvals: %+v %v", got, err)
	}
}

// TestForgedApprovalsDoNotCount: whoever can write approvals.jsonl still
// cannot make an approval count without an approver's private key.
func TestForgedApprovalsDoNotCount(t *testing.T) {
	p, jane, _, mallory := signedPlan(t)
	p.Approvals.Required = 1
	now := time.Date(2026, 2, 1, 1, 0, 0, 0, time.UTC)
	good := Approval{By: "Jane Doe", Statement: p.Approvals.Statement, Time: now, PlanName: p.Name, PlanSHA256: p.SHA256()}
	good.Hash = good.digest()
	s := evidence.SignApproval(jane, good.Evidence())
	good.Signature, good.PublicKey = s.Signature, s.PublicKey

	forge := func(edit func(a *Approval)) Approval {
		a := good
		edit(&a)
		a.Hash = a.digest() // the forger recomputes the unkeyed hash
		return a
	}
	signWith := func(k ed25519.PrivateKey) func(a *Approval) {
		return func(a *Approval) {
			s := evidence.SignApproval(k, a.Evidence())
			a.Signature, a.PublicKey = s.Signature, s.PublicKey
		}
	}
	cases := []struct {
		name string
		a    Approval
		want string
	}{
		{"no signature", forge(func(a *Approval) { a.Signature, a.PublicKey = "", "" }), "is not signed"},
		{"signed by Mallory's key in Jane's name", forge(signWith(mallory)), "does not verify with the key the plan lists for Jane Doe"},
		{"Jane's signature, time moved", forge(func(a *Approval) { a.Time = a.Time.Add(time.Hour) }), "does not verify"},
		{"Jane's signature, statement changed", forge(func(a *Approval) { a.Statement = "I approve Phase 1 execution!" }), "does not verify"},
		{"signature not base64", forge(func(a *Approval) { a.Signature = "%%%" }), "does not verify"},
		{"an unlisted approver", forge(func(a *Approval) { a.By = "Mallory"; signWith(mallory)(a) }), "Mallory is not one of the plan's approvers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeApprovals(t, dir, c.a)
			st, err := CheckApprovals(dir, p)
			if err == nil || len(st.Valid) != 0 {
				t.Fatalf("forged approval counted: %+v", st)
			}
			if !strings.Contains(strings.Join(st.Problems, "\n"), c.want) {
				t.Errorf("problems %q, want one containing %q", st.Problems, c.want)
			}
		})
	}
	dir := t.TempDir()
	writeApprovals(t, dir, good)
	if st, err := CheckApprovals(dir, p); err != nil || len(st.Valid) != 1 {
		t.Fatalf("the genuine approval: %+v %v", st, err)
	}
	// Listing another key for Jane changes the plan: her approval no longer counts.
	q := *p
	q.Approvals.Approvers = []plan.Approver{{Name: "Jane Doe", PublicKey: evidence.PublicKeyText(mallory.Public().(ed25519.PublicKey))}}
	if st, err := CheckApprovals(dir, &q); err == nil || len(st.Valid) != 0 {
		t.Fatalf("counted against another key: %+v", st)
	}
}

func writeApprovals(t *testing.T, dir string, as ...Approval) {
	t.Helper()
	var b []byte
	for _, a := range as {
		line, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		b = append(append(b, line...), '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, ApprovalsFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestApprovalIsForOneRun: once a run started on an approval, another run
// of the same plan cannot (a replay); the run itself, resumed, still can.
func TestApprovalIsForOneRun(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, nil)
	now := time.Date(2026, 2, 1, 1, 0, 0, 0, time.UTC)
	a, err := Approve(dir, p, "ops-lead", p.Approvals.Statement, now)
	if err != nil {
		t.Fatal(err)
	}
	st, err := CheckApprovalsFor(dir, p, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := MarkUsed(dir, "run-1", p, st.Valid, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckApprovalsFor(dir, p, "run-1"); err != nil {
		t.Errorf("the run that used the approval, resumed: %v", err)
	}
	for _, run := range []string{"run-2", ""} {
		st, err := CheckApprovalsFor(dir, p, run)
		if err == nil || len(st.Valid) != 0 || !strings.Contains(err.Error(), "was used by run run-1") || !strings.Contains(err.Error(), "approve again") {
			t.Errorf("run %q on a used approval: %+v %v", run, st, err)
		}
	}
	// A new approval (a new time, hence a new line) lets the next run start.
	if _, err := Approve(dir, p, "ops-lead", p.Approvals.Statement, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	st, err = CheckApprovalsFor(dir, p, "run-2")
	if err != nil || len(st.Valid) != 1 || st.Valid[0].Hash == a.Hash {
		t.Errorf("after a new approval: %+v %v", st, err)
	}
}
