package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// TestMain stops the shared test PostgreSQL after the package's tests.
func TestMain(m *testing.M) { pgtest.RunMain(m) }

// runCLI runs the CLI in-process and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, getenv func(string) string, args ...string) (string, string, int) {
	t.Helper()
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), poolpilot.ExitCode(err)
}

func TestUnknownCommandAndFlagAreBadInput(t *testing.T) {
	for _, args := range [][]string{{"nonsense"}, {"version", "--nope"}, {"version", "extra"}} {
		_, stderr, code := runCLI(t, nil, args...)
		if code != poolpilot.ExitBadInput {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, poolpilot.ExitBadInput, stderr)
		}
		if !strings.Contains(stderr, "poolpilot:") {
			t.Errorf("%v: stderr %q does not explain", args, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "poolpilot ") {
		t.Fatalf("version: exit %d, out %q", code, out)
	}
}
