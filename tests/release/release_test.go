package release

import (
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scriptsDir holds the scripts under test, from this package's folder.
const scriptsDir = "../../scripts"

// release.sh for one target builds a static binary that prints the
// version it was given, and a checksum file that sha256sum -c accepts.
func TestReleaseBuildsOneTarget(t *testing.T) {
	dist := t.TempDir()
	mine := filepath.Join(dist, "notes.txt") // not release.sh's: it stays
	if err := os.WriteFile(mine, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "release.sh", "v0.0.0-test")
	cmd.Dir = scriptsDir
	cmd.Env = append(os.Environ(), "TARGETS=linux/amd64", "DIST="+dist, "CHECK_GO_DIRECTIVE=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, out)
	}
	bin := filepath.Join(dist, "poolpilot_v0.0.0-test_linux_amd64")
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("%s version: %v", bin, err)
	}
	var vi struct{ Version, Commit, Go string }
	if err := json.Unmarshal(out, &vi); err != nil || vi.Version != "v0.0.0-test" || vi.Commit == "" || vi.Commit == "unknown" || !strings.HasPrefix(vi.Go, "go1.") {
		t.Fatalf("version --json: %v %s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is not static: it has a %v program header", p.Type)
		}
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(sums)), "  poolpilot_v0.0.0-test_linux_amd64") {
		t.Fatalf("SHA256SUMS: %v %q", err, sums)
	}
	check := exec.Command("sha256sum", "-c", "SHA256SUMS")
	check.Dir = dist
	if out, err := check.CombinedOutput(); err != nil || !strings.Contains(string(out), ": OK") {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("release.sh removed a file it did not write: %v", err)
	}
}

// Bad input is refused with exit status 2, naming what is wrong, before
// anything is built.
func TestReleaseRefusesBadInput(t *testing.T) {
	for _, c := range []struct {
		args    []string
		targets string
		want    string
	}{
		{nil, "", "usage"},
		{[]string{"1.2.3"}, "", "VERSION 1.2.3"},
		{[]string{"v1.2.3"}, "linux", "TARGETS: linux is not GOOS/GOARCH"},
	} {
		dist := filepath.Join(t.TempDir(), "dist")
		cmd := exec.Command("bash", append([]string{"release.sh"}, c.args...)...)
		cmd.Dir = scriptsDir
		cmd.Env = append(os.Environ(), "TARGETS="+c.targets, "DIST="+dist, "CHECK_GO_DIRECTIVE=0")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), c.want) {
			t.Errorf("%v TARGETS=%q: %v, want exit 2 and %q\n%s", c.args, c.targets, err, c.want, out)
		}
		if _, err := os.Stat(dist); !os.IsNotExist(err) {
			t.Errorf("%v: %s was created", c.args, dist)
		}
	}
}

// man.sh writes a man page per command, each with its synopsis.
func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man")
	// A file of the user's in DIR stays: only the pages are replaced.
	mine := filepath.Join(dir, "notes.txt")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mine, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	man := exec.Command("bash", "man.sh", dir)
	man.Dir = scriptsDir
	if out, err := man.CombinedOutput(); err != nil {
		t.Fatalf("man.sh: %v\n%s", err, out)
	}
	for _, name := range []string{"poolpilot.1", "poolpilot-run.1", "poolpilot-version.1", "poolpilot-completion-bash.1"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !strings.Contains(string(b), `.TH "POOLPILOT" "1"`) || !strings.Contains(string(b), ".SH SYNOPSIS") {
			t.Errorf("%s: %v\n%.300s", name, err, b)
		}
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("man.sh removed a file it did not write: %v", err)
	}
}
