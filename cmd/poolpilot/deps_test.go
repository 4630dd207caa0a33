package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinariesDoNotImportTesting guards the split between internal/pgcluster
// (ephemeral PostgreSQL, used by the demo) and internal/pgtest (its testing.TB
// helpers): test support must not ship in the binaries.
func TestBinariesDoNotImportTesting(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not on PATH: %v", err)
	}
	for _, pkg := range []string{".", "../ledgerd"} {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s listed %d packages, want the full dependency list", pkg, len(deps))
		}
		for _, d := range deps {
			if d == "testing" {
				t.Errorf("%s depends on package testing: test support ships in the binary (see internal/pgcluster)", pkg)
			}
		}
	}
}
