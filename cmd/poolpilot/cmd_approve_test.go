package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestApproveAndChecklist(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "phase1.yaml")
	if _, stderr, code := runCLI(t, nil, "plan", "init", "--out", file); code != 0 {
		t.Fatal(stderr)
	}
	out, stderr, code := runCLI(t, nil, "approve", file, "--by", "Jane (Executive Operator)", "--statement", "I approve Phase 1 execution")
	if code != 0 || !strings.Contains(out, "approved: plan phase1_pool_scaling") || !strings.Contains(out, "has the 1 approval(s) it requires") {
		t.Fatalf("approve: %d %s %s", code, out, stderr)
	}
	if !strings.Contains(stderr, "approvals are not signed") {
		t.Errorf("approve of a plan without approvers does not warn that approvals can be forged: %q", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "launch/evidence/phase1_pool_scaling/approvals.jsonl")); err != nil {
		t.Errorf("approvals file not beside the plan's evidence: %v", err)
	}
	if _, _, code := runCLI(t, nil, "approve", file, "--by", "x", "--statement", "sure"); code != 2 {
		t.Errorf("wrong statement: exit %d", code)
	}
	if _, _, code := runCLI(t, nil, "checklist", "tick", "nope", "--plan", file, "--by", "sam"); code != 2 {
		t.Errorf("unknown item: exit %d", code)
	}
	if _, stderr, code := runCLI(t, nil, "checklist", "tick", "on-call-available", "--plan", file, "--by", "sam"); code != 0 {
		t.Fatal(stderr)
	}
	out, _, _ = runCLI(t, nil, "checklist", "status", "--plan", file)
	if !strings.Contains(out, "[x] on-call-available") || !strings.Contains(out, "[ ] stakeholders-notified") {
		t.Errorf("status:\n%s", out)
	}
}
