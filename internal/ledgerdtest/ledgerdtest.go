package ledgerdtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/testutil"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/ledger/service"
)

// Options configure an instance.
type Options struct {
	// DatabaseURL is the database to use; "" creates a fresh one with
	// pgtest.NewDatabase (the package's TestMain must call pgtest.RunMain).
	DatabaseURL string
	// Env holds extra environment variables (DB_POOL_MAX, LEDGERD_LOG_LEVEL,
	// …); they override the defaults DB_POOL_MAX=10, DB_POOL_MIN=1,
	// LEDGERD_ADDR=127.0.0.1:0, LEDGERD_SHUTDOWN_TIMEOUT=10s.
	Env map[string]string
	// AdminToken enables /admin/pool and /admin/faults ("" disables them).
	AdminToken string
	// Process runs the cmd/ledgerd binary as a child process instead of
	// in-process (for signal and exit-status tests). It needs the go tool.
	Process bool
	// Clock and Window are passed to the in-process server (ignored with
	// Process).
	Clock  poolpilot.Clock
	Window time.Duration
}

// Instance is a running ledgerd.
type Instance struct {
	URL         string // http://127.0.0.1:PORT
	Addr        string // 127.0.0.1:PORT
	AdminToken  string
	DatabaseURL string // the database ledgerd uses (for pg_stat_* checks)
	// Server is the in-process server (nil with Options.Process): its
	// Store, Pool, Faults and API are there for white-box checks.
	Server *service.Server
	// Cmd is the child process (nil in-process).
	Cmd *exec.Cmd

	t        testing.TB
	logs     *testutil.Buffer
	exited   chan struct{}
	exitErr  error
	stopOnce sync.Once
	stopErr  error
}

// Env returns the environment an instance starts with: the defaults, the
// database URL, the token and opts.Env on top.
func (o Options) env(dbURL string) map[string]string {
	env := map[string]string{
		"DATABASE_URL":             dbURL,
		"DB_POOL_MAX":              "10",
		"DB_POOL_MIN":              "1",
		service.EnvAddr:            "127.0.0.1:0",
		service.EnvShutdownTimeout: "10s",
	}
	if o.AdminToken != "" {
		env[service.EnvAdminToken] = o.AdminToken
	}
	for k, v := range o.Env {
		env[k] = v
	}
	return env
}

// Start starts ledgerd and registers its Stop with t.Cleanup. It fails the
// test when ledgerd does not start.
func Start(t testing.TB, opts Options) *Instance {
	t.Helper()
	dbURL := opts.DatabaseURL
	if dbURL == "" {
		dbURL = pgtest.NewDatabase(t)
	}
	env := opts.env(dbURL)
	i := &Instance{t: t, AdminToken: env[service.EnvAdminToken], DatabaseURL: dbURL, logs: &testutil.Buffer{}, exited: make(chan struct{})}
	if opts.Process {
		i.startProcess(t, env)
	} else {
		i.startInProcess(t, env, opts)
	}
	i.URL = "http://" + i.Addr
	t.Cleanup(func() {
		if err := i.Stop(); err != nil {
			t.Errorf("ledgerdtest: stop: %v\nlogs:\n%s", err, i.Logs())
		}
	})
	return i
}

func (i *Instance) startInProcess(t testing.TB, env map[string]string, opts Options) {
	t.Helper()
	cfg, err := service.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("ledgerdtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logger := slog.New(slog.NewJSONHandler(i.logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	srv, err := service.Start(ctx, cfg, service.Options{Logger: logger, Clock: opts.Clock, Window: opts.Window})
	if err != nil {
		t.Fatalf("ledgerdtest: start: %v\nlogs:\n%s", err, i.logs.String())
	}
	i.Server, i.Addr = srv, srv.Addr()
	close(i.exited)
}

// Build compiles cmd/ledgerd into dir and returns the binary's path.
func Build(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "ledgerd")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/poolpilot/poolpilot/cmd/ledgerd")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ledgerdtest: go build ./cmd/ledgerd: %v\n%s", err, out)
	}
	return bin
}

func (i *Instance) startProcess(t testing.TB, env map[string]string) {
	t.Helper()
	bin := Build(t, t.TempDir())
	i.Cmd = exec.Command(bin)
	i.Cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range env {
		i.Cmd.Env = append(i.Cmd.Env, k+"="+v)
	}
	i.Cmd.Stderr = i.logs
	stdout, err := i.Cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := i.Cmd.Start(); err != nil {
		t.Fatalf("ledgerdtest: start %s: %v", bin, err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening addr="); ok {
				addr <- a
			}
			i.logs.Write(append(sc.Bytes(), '\n'))
		}
		i.exitErr = i.Cmd.Wait()
		close(i.exited)
	}()
	select {
	case i.Addr = <-addr:
	case <-i.exited:
		t.Fatalf("ledgerdtest: ledgerd exited before listening: %v\n%s", i.exitErr, i.logs.String())
	case <-time.After(60 * time.Second):
		i.Cmd.Process.Kill()
		t.Fatalf("ledgerdtest: ledgerd did not print its address within 60s\n%s", i.logs.String())
	}
}

// Stop shuts ledgerd down gracefully (SIGTERM for a process) and waits for
// it. It is idempotent. For a process, a non-zero exit is an error.
func (i *Instance) Stop() error {
	i.stopOnce.Do(func() {
		if i.Server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			i.stopErr = i.Server.Shutdown(ctx)
			return
		}
		_ = i.Cmd.Process.Signal(syscall.SIGTERM)
		if _, err := i.Wait(30 * time.Second); err != nil {
			i.Cmd.Process.Kill()
			<-i.exited
			i.stopErr = err
			return
		}
		i.stopErr = i.exitErr
	})
	return i.stopErr
}

// Kill SIGKILLs the child process, as a crash would, and waits for it
// (Process mode only). The test's cleanup then has nothing to stop.
func (i *Instance) Kill() error {
	if i.Cmd == nil {
		return fmt.Errorf("ledgerdtest: Kill needs Options.Process")
	}
	var err error
	i.stopOnce.Do(func() {
		if err = i.Cmd.Process.Signal(syscall.SIGKILL); err == nil {
			_, err = i.Wait(30 * time.Second)
		}
	})
	return err
}

// Signal sends sig to the child process (Process mode only).
func (i *Instance) Signal(sig os.Signal) error {
	if i.Cmd == nil {
		return fmt.Errorf("ledgerdtest: Signal needs Options.Process")
	}
	return i.Cmd.Process.Signal(sig)
}

// Wait waits up to timeout for the child process to exit and returns its
// exit status (Process mode only).
func (i *Instance) Wait(timeout time.Duration) (int, error) {
	if i.Cmd == nil {
		return 0, fmt.Errorf("ledgerdtest: Wait needs Options.Process")
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-i.exited:
		return i.Cmd.ProcessState.ExitCode(), nil
	default:
	}
	select {
	case <-i.exited:
		return i.Cmd.ProcessState.ExitCode(), nil
	case <-t.C:
		return -1, fmt.Errorf("ledgerdtest: ledgerd still running after %v", timeout)
	}
}

// Logs returns what ledgerd logged so far (JSON lines; for a process also
// its stdout).
func (i *Instance) Logs() string { return i.logs.String() }

// SetFaults sets the fault injection through PUT /admin/faults (needs
// AdminToken); the zero FaultSettings clears it.
func (i *Instance) SetFaults(t testing.TB, s ledger.FaultSettings) {
	t.Helper()
	body, _ := json.Marshal(s)
	req, _ := http.NewRequest(http.MethodPut, i.URL+"/admin/faults", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+i.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ledgerdtest: PUT /admin/faults: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("ledgerdtest: PUT /admin/faults: %d %s", resp.StatusCode, b)
	}
}
