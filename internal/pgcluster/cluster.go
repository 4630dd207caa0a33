package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/poolpilot/poolpilot/internal/proc"
)

// ErrNoServerBinaries says the PostgreSQL server binaries are not installed.
var ErrNoServerBinaries = errors.New("pgcluster: PostgreSQL server binaries (initdb, postgres) not found: install them with `apt-get install postgresql` or put pg_config on PATH")

// Options configure a cluster.
type Options struct {
	// Settings are passed to postgres as -c name=value (e.g. max_connections).
	Settings map[string]string
	// Port is the TCP port; 0 picks a free one.
	Port int
	// Log receives the server's output; nil discards it.
	Log *bytes.Buffer
}

// Server is a running (or stopped) ephemeral cluster.
type Server struct {
	Dir     string // data directory
	SockDir string // unix socket directory
	Port    int
	bindir  string
	opts    Options
	user    *proc.User

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logs *lockedBuffer
}

// BinDir finds the directory holding initdb and postgres.
func BinDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if exists(filepath.Join(dir, "initdb")) && exists(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	for _, dir := range matches {
		if exists(filepath.Join(dir, "initdb")) && exists(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrNoServerBinaries
}

func versionOf(bindir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return v
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// Start initialises and starts a new cluster.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bindir, err := BinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bindir: bindir, opts: opts, Port: opts.Port, logs: &lockedBuffer{}}
	if err := s.prepareUser(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "poolpilot-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: temp dir: %w", err)
	}
	s.Dir = filepath.Join(dir, "data")
	s.SockDir = filepath.Join(dir, "sock")
	for _, d := range []string{s.Dir, s.SockDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgcluster: %w", err)
		}
	}
	if s.user != nil {
		for _, d := range []string{dir, s.Dir, s.SockDir} {
			if err := os.Chown(d, int(s.user.UID), int(s.user.GID)); err != nil {
				os.RemoveAll(dir)
				return nil, fmt.Errorf("pgcluster: chown %s: %w", d, err)
			}
		}
	}
	initdb := s.command(ctx, "initdb", "-D", s.Dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgcluster: initdb: %w: %s", err, out)
	}
	if s.Port == 0 {
		if s.Port, err = FreePort(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.Start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) prepareUser() (err error) {
	s.user, err = Credential()
	return err
}

// Credential is the "postgres" system user to run a server process as when
// this process runs as root (initdb, postgres and pgbouncer refuse root);
// nil otherwise.
func Credential() (*proc.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root needs the postgres system user (apt-get install postgresql): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &proc.User{UID: uint32(uid), GID: uint32(gid)}, nil
}

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return s.commandDying(ctx, 0, name, args...)
}

// commandDying is command with a signal sent to the child when poolpilot
// dies (Linux; 0 for none).
func (s *Server) commandDying(ctx context.Context, death syscall.Signal, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bindir, name), args...)
	cmd.SysProcAttr = proc.SysProcAttr(proc.Attr{User: s.user, NewGroup: true, DeathSignal: death})
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Dir = os.TempDir()
	return cmd
}

// Start starts a stopped cluster again (same data directory and port).
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("pgcluster: server already running")
	}
	args := []string{"-D", s.Dir, "-p", strconv.Itoa(s.Port), "-k", s.SockDir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "logging_collector=off"}
	keys := make([]string, 0, len(s.opts.Settings))
	for k := range s.opts.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+s.opts.Settings[k])
	}
	cmd := s.commandDying(context.Background(), syscall.SIGQUIT, "postgres", args...)
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", s.addr(), 200*time.Millisecond); err == nil {
			c.Close()
			if s.ready(ctx) {
				return nil
			}
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("pgcluster: postgres exited during start: %s", s.logs.String())
		case <-ctx.Done():
			s.stopLocked(syscall.SIGQUIT)
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stopLocked(syscall.SIGQUIT)
			return fmt.Errorf("pgcluster: postgres not ready after 30s: %s", s.logs.String())
		}
	}
}

// ready asks pg_isready whether the server accepts connections.
func (s *Server) ready(ctx context.Context) bool {
	cmd := s.command(ctx, "pg_isready", "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", "postgres", "-d", "postgres", "-t", "1")
	return cmd.Run() == nil
}

func (s *Server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Stop shuts the server down (fast shutdown), keeping its data directory.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked(syscall.SIGINT)
}

// Kill stops the server abruptly (immediate shutdown), as a crash would.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked(syscall.SIGQUIT)
}

func (s *Server) stopLocked(sig syscall.Signal) error {
	if s.cmd == nil {
		return nil
	}
	StopProcess(s.cmd, s.done, sig, 20*time.Second)
	s.cmd = nil
	return nil
}

// StopProcess sends sig to the server process cmd and waits until done
// (closed once cmd.Wait returned) is closed; after grace it kills the
// process group (cmd started with Setpgid) and waits again.
func StopProcess(cmd *exec.Cmd, done <-chan struct{}, sig syscall.Signal, grace time.Duration) {
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(grace):
		_ = proc.KillGroup(cmd.Process.Pid)
		<-done
	}
}

// Close stops the server and removes its files.
func (s *Server) Close() error {
	err := s.Stop()
	if rmErr := os.RemoveAll(filepath.Dir(s.Dir)); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}

// URL returns a connection URL for database db as user postgres over TCP.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// Logs returns what the server printed so far.
func (s *Server) Logs() string { return s.logs.String() }

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep the last megabyte or so
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
