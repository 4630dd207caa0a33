package runtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// built caches Binary's builds: one per package and test binary.
var built struct {
	sync.Mutex
	dir  string
	bins map[string]string
	errs map[string]error
}

// Binary builds the main package pkg (an import path such as
// "github.com/poolpilot/poolpilot/cmd/poolpilot") once per test binary and
// returns its path. The binaries go to one temp folder that outlives the
// tests that share it, as a build cache does.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if bin, ok := built.bins[pkg]; ok {
		return bin
	}
	if err, ok := built.errs[pkg]; ok {
		t.Fatal(err)
	}
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "poolpilot-runtest-")
		if err != nil {
			t.Fatal(err)
		}
		built.dir, built.bins, built.errs = dir, map[string]string{}, map[string]error{}
	}
	bin := filepath.Join(built.dir, path.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		built.errs[pkg] = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		t.Fatal(built.errs[pkg])
	}
	built.bins[pkg] = bin
	return bin
}

// Command is bin with args in an environment of PATH, HOME and env only, so
// that the caller's variables (tokens, database URLs) do not leak in.
func Command(ctx context.Context, bin string, env map[string]string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// Kill9 SIGKILLs a started command, as a crash would, and reaps it.
func Kill9(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}
