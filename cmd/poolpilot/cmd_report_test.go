package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

func TestReportFormats(t *testing.T) {
	dir := evidencetest.Build(t, t.TempDir(), evidencetest.Rollback)
	out, stderr, code := runCLI(t, nil, "report", dir)
	if code != 0 || !strings.HasPrefix(out, "# Post-change report: phase1_pool_scaling") || !strings.Contains(out, "ROLLED BACK") || stderr != "" {
		t.Fatalf("md to stdout: exit %d, stderr %q\n%.300s", code, stderr, out)
	}
	if !strings.Contains(out, "| From (UTC) | Latency p95 | Error rate |") {
		t.Error("md to stdout has no series table in place of the charts")
	}
	outDir := t.TempDir()
	mdPath := filepath.Join(outDir, "phase1.md")
	out, _, code = runCLI(t, nil, "report", dir, "--out", mdPath)
	if code != 0 || !strings.Contains(out, "4 chart files") {
		t.Fatalf("md --out: exit %d %s", code, out)
	}
	md, _ := os.ReadFile(mdPath)
	for _, id := range []string{"latency_p95", "error_rate", "utilization", "wait_p95"} {
		name := "phase1-" + id + ".svg"
		if !strings.Contains(string(md), "]("+name+")") {
			t.Errorf("md does not link %s", name)
		}
		if b, err := os.ReadFile(filepath.Join(outDir, name)); err != nil || !strings.HasPrefix(string(b), "<svg") {
			t.Errorf("chart file %s: %v", name, err)
		}
	}
	htmlPath := filepath.Join(outDir, "phase1.html")
	if _, _, code = runCLI(t, nil, "report", dir, "--out", htmlPath); code != 0 {
		t.Fatalf("html --out: exit %d", code)
	}
	if h, _ := os.ReadFile(htmlPath); !strings.HasPrefix(string(h), "<!DOCTYPE html>") || strings.Count(string(h), "<svg") != 4 {
		t.Fatalf("html report: %.200s", h)
	}
	out, _, code = runCLI(t, nil, "report", dir, "--json")
	var m struct{ Verdict, FinalState string }
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m.Verdict != "rolled back" {
		t.Fatalf("--json: exit %d %.200s", code, out)
	}
	if res, _ := evidence.Verify(dir, nil); !res.OK {
		t.Fatalf("report changed the evidence folder: %+v", res.Problems)
	}
}

func TestReportWarnsWhenEvidenceDoesNotVerify(t *testing.T) {
	dir := evidencetest.Build(t, t.TempDir(), evidencetest.Success)
	os.Remove(filepath.Join(dir, evidence.FileConfigDiff))
	out, stderr, code := runCLI(t, nil, "report", dir, "--format", "html")
	if code != 0 || !strings.Contains(stderr, "warning: the evidence does not verify: file config_diff.txt was deleted") ||
		!strings.Contains(out, "The evidence does not verify") {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
}

func TestReportBadInput(t *testing.T) {
	dir := evidencetest.Build(t, t.TempDir(), evidencetest.Refused)
	for _, args := range [][]string{
		{"report"},
		{"report", filepath.Join(dir, "nope")},
		{"report", filepath.Dir(dir)},
		{"report", dir, "--format", "pdf"},
		{"report", dir, "--out", filepath.Join(dir, "report.md")},
	} {
		_, stderr, code := runCLI(t, nil, args...)
		if code != 2 || !strings.Contains(stderr, "poolpilot:") {
			t.Errorf("%v: exit %d stderr %q", args, code, stderr)
		}
	}
	if res, _ := evidence.Verify(dir, nil); !res.OK {
		t.Fatalf("a refused report wrote into the folder: %+v", res.Problems)
	}
}
