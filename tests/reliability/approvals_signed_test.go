package reliability

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/plan"
)

// TestForgedApprovalRefused: someone who can write the evidence folder,
// but holds no approver's private key, cannot make a run start. Without
// listed approvers the hash alone can be recomputed, so preflight warns.
func TestForgedApprovalRefused(t *testing.T) {
	f := newRunFixtureOn(t, pgtest.NewDatabase(t), 3*time.Second, nil)

	// A plan without approvers: runs on an unsigned approval, with a warning.
	f.Approve()
	out, stderr, code := f.cli(time.Minute, "run", f.PlanFile, "--dry-run")
	if code != 0 || !strings.Contains(out, "approvals are not signed") {
		t.Fatalf("unsigned plan dry run: exit %d, want 0 with the unsigned-approvals warning\n%s\n%s", code, out, stderr)
	}

	// The plan lists Jane's key.
	janeKey, _, err := evidence.WriteKeyPair(filepath.Join(f.Dir, "jane"), nil)
	if err != nil {
		t.Fatal(err)
	}
	jane, err := evidence.LoadPrivateKey(janeKey)
	if err != nil {
		t.Fatal(err)
	}
	_, mallory, err := evidence.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	f.P.Approvals.Approvers = []plan.Approver{{Name: "Jane Doe", PublicKey: evidence.PublicKeyText(jane.Public().(ed25519.PublicKey))}}
	f.Write()
	approvals := filepath.Join(f.PlanDir(), change.ApprovalsFile)
	refused := func(what, want string) {
		t.Helper()
		out, stderr, code := f.cli(time.Minute, "run", f.PlanFile, "--dry-run")
		if code != 4 || !strings.Contains(out+stderr, want) {
			t.Errorf("%s: exit %d, want 4 (refused) saying %q\n%s\n%s", what, code, want, out, strings.TrimSpace(stderr))
		}
	}
	refused("the earlier unsigned approval", "needs 1 approval(s), has 0 valid")

	// Forged: the unkeyed hash recomputed, no signature.
	a := change.Approval{By: "Jane Doe", Statement: f.P.Approvals.Statement, Time: time.Now().UTC(), PlanName: f.P.Name, PlanSHA256: f.P.SHA256()}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", a.By, a.Statement, a.Time.Format(time.RFC3339Nano), a.PlanName, a.PlanSHA256)
	a.Hash = hex.EncodeToString(h.Sum(nil))
	writeFile(t, approvals, jsonLine(t, a))
	refused("forged approval (hash recomputed, no key)", "is not signed")

	// Forged: signed with Mallory's own key, in Jane's name.
	s := evidence.SignApproval(mallory, a.Evidence())
	a.Signature, a.PublicKey = s.Signature, s.PublicKey
	writeFile(t, approvals, jsonLine(t, a))
	refused("approval signed with another key", "does not verify with the key the plan lists for Jane Doe")

	// Mallory cannot record one through the CLI either.
	malloryKey, _, err := evidence.WriteKeyPair(filepath.Join(f.Dir, "mallory"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := f.cli(time.Minute, "approve", f.PlanFile, "--by", "Jane Doe", "--signing-key", malloryKey, "--statement", f.P.Approvals.Statement); code != 2 || !strings.Contains(stderr, "not listed in approvals.approvers") {
		t.Errorf("approve with an unlisted key: exit %d, want 2\n%s", code, stderr)
	}
	if _, stderr, code := f.cli(time.Minute, "approve", f.PlanFile, "--by", "Jane Doe", "--statement", f.P.Approvals.Statement); code != 2 || !strings.Contains(stderr, "--signing-key") {
		t.Errorf("unsigned approve of a plan with approvers: exit %d, want 2\n%s", code, stderr)
	}

	// Jane signs: the run may start, and approval.json carries her signature.
	writeFile(t, approvals, nil)
	if out, stderr, code := f.cli(time.Minute, "approve", f.PlanFile, "--signing-key", janeKey, "--statement", f.P.Approvals.Statement); code != 0 || !strings.Contains(out, "by Jane Doe") || !strings.Contains(out, "signed") {
		t.Fatalf("Jane's approval: exit %d\n%s\n%s", code, out, stderr)
	}
	f.Tick(f.PlanFile) // the checklist ticks, too, bind to the edited plan
	out, stderr, code = f.cli(time.Minute, "run", f.PlanFile, "--dry-run")
	if code != 0 || strings.Contains(out, "approvals are not signed") {
		t.Fatalf("signed approval: exit %d, want 0 without the unsigned warning\n%s\n%s", code, out, stderr)
	}
}

func jsonLine(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestApprovalReplayRefused: an approval lets one run start; running the
// same plan again on it is refused before anything changes, and a new
// approval lets the next run start.
func TestApprovalReplayRefused(t *testing.T) {
	f := newRunFixtureOn(t, pgtest.NewDatabase(t), 2*time.Second, nil)
	f.Approve()
	if out, stderr, code := f.cli(2*time.Minute, "run", f.PlanFile); code != 0 {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, stderr)
	}
	to := f.P.Change.To
	if !f.AllAt(to) {
		t.Fatalf("after the first run: %v, want %v", f.Sizes(), to)
	}
	// Put the instances back at change.from, as after a rollback: the same
	// plan (same SHA-256) is run again.
	for _, ld := range f.Ledgerds {
		if err := ld.Server.Pool().Resize(context.Background(), f.P.Change.From.Max, f.P.Change.From.Min); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, code := f.cli(2*time.Minute, "run", f.PlanFile)
	if code != 4 || !strings.Contains(out+stderr, "was used by run") {
		t.Fatalf("second run on the same approval: exit %d, want 4 (refused: used by the first run)\n%s\n%s", code, out, strings.TrimSpace(stderr))
	}
	if !f.AllAt(f.P.Change.From) {
		t.Fatalf("a refused run changed the instances: %v", f.Sizes())
	}
	f.Approve()
	if out, stderr, code := f.cli(2*time.Minute, "run", f.PlanFile); code != 0 {
		t.Fatalf("run after a new approval: exit %d\n%s\n%s", code, out, stderr)
	}
}
