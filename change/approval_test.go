package change

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/plan"
)

func testPlan(t *testing.T, edit func(string) string) *plan.Plan {
	t.Helper()
	b, err := plan.Init(plan.SeedInitOptions())
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if edit != nil {
		s = edit(s)
	}
	p, err := plan.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApprovalBindsToThePlan(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, nil)
	now := time.Date(2026, 2, 1, 1, 0, 0, 0, time.UTC)
	if _, err := CheckApprovals(dir, p); err == nil || !strings.Contains(err.Error(), "needs 1 approval(s), has 0") {
		t.Fatalf("no approvals: %v", err)
	}
	if _, err := Approve(dir, p, "ops-lead", "I approve something else", now); err == nil {
		t.Fatal("wrong statement accepted")
	}
	if _, err := Approve(dir, p, "", "I approve Phase 1 execution", now); err == nil {
		t.Fatal("anonymous approval accepted")
	}
	if _, err := Approve(dir, p, "ops-lead", "I approve Phase 1 execution", now); err != nil {
		t.Fatal(err)
	}
	st, err := CheckApprovals(dir, p)
	if err != nil || len(st.Valid) != 1 {
		t.Fatalf("after approval: %v %+v", err, st)
	}
	// the plan is edited after approval
	edited := testPlan(t, func(s string) string {
		return strings.Replace(s, "to: {max: 200, min: 20}", "to: {max: 400, min: 20}", 1)
	})
	if _, err := CheckApprovals(dir, edited); err == nil || !strings.Contains(err.Error(), "changed after approval") {
		t.Fatalf("edited plan: %v", err)
	}
	// another plan name
	other := testPlan(t, func(s string) string { return strings.Replace(s, "name: phase1_pool_scaling", "name: phase2", 1) })
	if _, err := CheckApprovals(dir, other); err == nil || !strings.Contains(err.Error(), "not \"phase2\"") {
		t.Fatalf("other plan: %v", err)
	}
}

func TestEditedApprovalIsRefused(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, nil)
	Approve(dir, p, "ops-lead", "I approve Phase 1 execution", time.Now())
	path := filepath.Join(dir, ApprovalsFile)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(b), "ops-lead", "ceo", 1)), 0o644)
	if _, err := CheckApprovals(dir, p); err == nil || !strings.Contains(err.Error(), "edited") {
		t.Fatalf("edited approval: %v", err)
	}
}

func TestTwoApprovalsFromOnePersonCountOnce(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, func(s string) string { return strings.Replace(s, "required: 1", "required: 2", 1) })
	Approve(dir, p, "alice", "I approve Phase 1 execution", time.Now())
	Approve(dir, p, "Alice", "I approve Phase 1 execution", time.Now())
	if _, err := CheckApprovals(dir, p); err == nil {
		t.Fatal("one person counted twice")
	}
	Approve(dir, p, "bob", "I approve Phase 1 execution", time.Now())
	if st, err := CheckApprovals(dir, p); err != nil || len(st.Valid) != 2 {
		t.Fatalf("two people: %v", err)
	}
}

func TestChecklistTicks(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, nil)
	_, missing, err := CheckTicks(dir, p)
	if err != nil || len(missing) != len(p.Checklist) {
		t.Fatalf("missing %v err %v", missing, err)
	}
	if _, err := TickItem(dir, p, "no-such-item", "bob", time.Now()); err == nil || !strings.Contains(err.Error(), "stakeholders-notified") {
		t.Errorf("unknown item: %v", err)
	}
	for _, it := range p.Checklist {
		if _, err := TickItem(dir, p, it.ID, "bob", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ticked, missing, _ := CheckTicks(dir, p)
	if len(missing) != 0 || len(ticked) != len(p.Checklist) {
		t.Errorf("after ticking: missing %v", missing)
	}
}
