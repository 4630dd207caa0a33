// Package restart applies a pool size the seed's way: rewrite the instance's
// env file (DB_POOL_MAX, DB_POOL_MIN), then run its restart command. The
// controller then waits for /healthz to show the new config.
package restart

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// Driver is the restart driver.
type Driver struct {
	// Timeout bounds one run of the restart command; 0 means 2 minutes.
	Timeout time.Duration
	// Retry is the policy for a restart command that fails (non-zero exit
	// or timeout): it is run again, at most 3 times in all unless
	// Retry.Attempts says otherwise, within Retry.Within (the plan's
	// verify_timeout). A command that cannot be started is not retried.
	Retry driver.Retry
}

// DefaultAttempts bounds the runs of a failing restart command.
const DefaultAttempts = 3

// Name returns "restart".
func (d *Driver) Name() string { return plan.DriverRestart }

// Apply rewrites the env file and runs the restart command. Both steps are
// idempotent.
func (d *Driver) Apply(ctx context.Context, inst plan.Instance, size plan.PoolSize, log io.Writer) error {
	old, err := SetEnv(inst.EnvFile, map[string]string{
		"DB_POOL_MAX": strconv.Itoa(size.Max),
		"DB_POOL_MIN": strconv.Itoa(size.Min),
	})
	if err != nil {
		return fmt.Errorf("instance %s: %w", inst.Name, err)
	}
	fmt.Fprintf(log, "%s %s: DB_POOL_MAX %s -> %d, DB_POOL_MIN %s -> %d\n", time.Now().UTC().Format(time.RFC3339Nano),
		inst.EnvFile, orNone(old["DB_POOL_MAX"]), size.Max, orNone(old["DB_POOL_MIN"]), size.Min)
	r := d.Retry
	if r.Attempts == 0 {
		r.Attempts = DefaultAttempts
	}
	what := fmt.Sprintf("instance %s: restart %q", inst.Name, strings.Join(inst.RestartCommand, " "))
	return r.Do(ctx, what, log, func(ctx context.Context) error { return d.restart(ctx, inst, log) })
}

// restart runs the restart command once. A command that ran and failed
// (exit status, timeout) is a driver.TransientError.
func (d *Driver) restart(ctx context.Context, inst plan.Instance, log io.Writer) error {
	timeout := d.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, inst.RestartCommand[0], inst.RestartCommand[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	fmt.Fprintf(log, "%s restart %q (%s): %s\n", time.Now().UTC().Format(time.RFC3339Nano), strings.Join(inst.RestartCommand, " "),
		time.Since(start).Round(time.Millisecond), exitText(err))
	if s := strings.TrimSpace(out.String()); s != "" {
		fmt.Fprintf(log, "  %s\n", strings.ReplaceAll(s, "\n", "\n  "))
	}
	if err == nil {
		return nil
	}
	err = fmt.Errorf("instance %s: restart command %q: %v", inst.Name, strings.Join(inst.RestartCommand, " "), exitText(err))
	if cmd.ProcessState != nil { // it ran, and failed or timed out
		return driver.Transient(err)
	}
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(unset)"
	}
	return s
}

func exitText(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}

// SetEnv sets keys in a KEY=VALUE env file, keeping every other line as it
// is, and writes it atomically (temp file, fsync, rename, fsync of the
// folder). It returns the previous values.
func SetEnv(path string, set map[string]string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	old := map[string]string{}
	done := map[string]bool{}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		key, val, ok := strings.Cut(strings.TrimSpace(line), "=")
		key = strings.TrimSpace(strings.TrimPrefix(key, "export "))
		if nv, want := set[key]; ok && want && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			old[key] = strings.Trim(strings.TrimSpace(val), `"'`)
			if !done[key] {
				fmt.Fprintf(&out, "%s=%s\n", key, nv)
				done[key] = true
			}
			continue
		}
		out.WriteString(line + "\n")
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if !done[k] {
			fmt.Fprintf(&out, "%s=%s\n", k, set[k])
		}
	}
	return old, writeEnvFile(path, out.Bytes())
}

// writeEnvFile replaces the env file atomically, keeping its permissions
// (0600 for a new file: it may hold a database password).
func writeEnvFile(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := evidence.WriteFileAtomic(path, data, mode); err != nil {
		return fmt.Errorf("env file: %w", err)
	}
	return nil
}
