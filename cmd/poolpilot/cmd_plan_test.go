package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanInitThenCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "phase1.yaml")
	_, stderr, code := runCLI(t, nil, "plan", "init", "--out", file, "--soak", "60s", "--trigger-window", "5s")
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	out, stderr, code := runCLI(t, nil, "plan", "check", file, "--json")
	if code != 0 {
		t.Fatalf("check: exit %d: %s", code, stderr)
	}
	var res struct {
		Valid  bool   `json:"valid"`
		SHA256 string `json:"sha256"`
		Plan   struct {
			Soak struct {
				Duration string `json:"duration"`
			} `json:"soak"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if !res.Valid || len(res.SHA256) != 64 || res.Plan.Soak.Duration != "1m0s" {
		t.Errorf("check result %+v", res)
	}
	// init refuses to overwrite
	if _, _, code := runCLI(t, nil, "plan", "init", "--out", file); code != 2 {
		t.Errorf("overwrite: exit %d, want 2", code)
	}
	text, _, code := runCLI(t, nil, "plan", "check", file)
	if code != 0 || !strings.Contains(text, "sha256: "+res.SHA256) {
		t.Errorf("text check: exit %d\n%s", code, text)
	}
}

func TestPlanCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\nname: x\nsoak: {duration: 1h, colour: red}\n"), 0o644)
	for _, args := range [][]string{
		{"plan", "check", bad},
		{"plan", "check", filepath.Join(dir, "missing.yaml")},
		{"plan", "check"},
		{"plan", "init", "--to", "10:20"},
		{"plan", "init", "--from", "ten"},
		{"plan", "init", "--driver", "ssh"},
	} {
		_, stderr, code := runCLI(t, nil, args...)
		if code != 2 || stderr == "" {
			t.Errorf("%v: exit %d stderr %q, want 2 with a message", args, code, stderr)
		}
	}
	_, stderr, _ := runCLI(t, nil, "plan", "check", bad)
	if !strings.Contains(stderr, "colour") || !strings.Contains(stderr, "line 3") {
		t.Errorf("unknown key not named with its line: %s", stderr)
	}
}
