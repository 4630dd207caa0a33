package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
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
	if code != 0 || !strings.HasPrefix(out, "poolpilot ") || !strings.Contains(out, "\ngo        go1.") {
		t.Fatalf("version: exit %d, out %q", code, out)
	}
	out, _, code = runCLI(t, nil, "version", "--json")
	var vi VersionInfo
	if err := json.Unmarshal([]byte(out), &vi); code != 0 || err != nil || vi.Version == "" || vi.Go != runtime.Version() {
		t.Fatalf("version --json: exit %d, %v, out %q", code, err, out)
	}
}

// The linker's values (the release script's -X main.version/main.commit)
// win over the module build info.
func TestVersionFromLinker(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	version, commit = "v9.8.7", "abc123"
	vi := buildVersion()
	if vi.Version != "v9.8.7" || vi.Commit != "abc123" || vi.Modified {
		t.Fatalf("%+v", vi)
	}
	out, _, _ := runCLI(t, nil, "version")
	if !strings.HasPrefix(out, "poolpilot v9.8.7\ncommit    abc123\n") {
		t.Fatalf("out %q", out)
	}
}
