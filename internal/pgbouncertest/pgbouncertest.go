package pgbouncertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgcluster"
	"github.com/poolpilot/poolpilot/internal/proc"
)

// ErrNotInstalled says the pgbouncer binary is missing.
var ErrNotInstalled = errors.New("pgbouncertest: pgbouncer not found: install it with `apt-get install pgbouncer`")

// Options configure a PgBouncer.
type Options struct {
	UpstreamHost string // default 127.0.0.1
	UpstreamPort int    // PostgreSQL port (required)
	PoolMode     string // session, transaction (default) or statement
	PoolSize     int    // default_pool_size; default 5
	MaxClients   int    // max_client_conn; default 500
}

// Server is a running PgBouncer.
type Server struct {
	Port int
	Dir  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// Binary finds pgbouncer on PATH or in /usr/sbin.
func Binary() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Start writes the configuration and starts PgBouncer, returning once it
// accepts TCP connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if opts.UpstreamPort == 0 {
		return nil, errors.New("pgbouncertest: UpstreamPort is required")
	}
	if opts.UpstreamHost == "" {
		opts.UpstreamHost = "127.0.0.1"
	}
	if opts.PoolMode == "" {
		opts.PoolMode = "transaction"
	}
	if opts.PoolSize == 0 {
		opts.PoolSize = 5
	}
	if opts.MaxClients == 0 {
		opts.MaxClients = 500
	}
	cred, err := pgcluster.Credential()
	if err != nil {
		return nil, fmt.Errorf("pgbouncertest: PgBouncer refuses to run as root: %w", err)
	}
	dir, err := os.MkdirTemp("", "poolpilot-pgbouncer-")
	if err != nil {
		return nil, fmt.Errorf("pgbouncertest: %w", err)
	}
	port, err := pgcluster.FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{Port: port, Dir: dir, log: filepath.Join(dir, "pgbouncer.log")}
	if err := s.writeFiles(opts, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	cmd.SysProcAttr = proc.SysProcAttr(proc.Attr{User: cred, NewGroup: true, DeathSignal: syscall.SIGTERM})
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgbouncertest: start: %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) writeFiles(o Options, cred *proc.User) error {
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%d

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = %s
default_pool_size = %d
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = %d
ignore_startup_parameters = extra_float_digits
admin_users = postgres
logfile = %s
pidfile = %s
server_reset_query = DISCARD ALL
`, o.UpstreamHost, o.UpstreamPort, s.Port, filepath.Join(s.Dir, "userlist.txt"), o.PoolMode,
		o.PoolSize, o.MaxClients, s.log, filepath.Join(s.Dir, "pgbouncer.pid"))
	files := map[string]string{"pgbouncer.ini": ini, "userlist.txt": `"postgres" ""` + "\n"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(s.Dir, name), []byte(body), 0o600); err != nil {
			return fmt.Errorf("pgbouncertest: %w", err)
		}
	}
	if cred == nil {
		return nil
	}
	for _, p := range []string{s.Dir, filepath.Join(s.Dir, "pgbouncer.ini"), filepath.Join(s.Dir, "userlist.txt")} {
		if err := os.Chown(p, int(cred.UID), int(cred.GID)); err != nil {
			return fmt.Errorf("pgbouncertest: chown: %w", err)
		}
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("pgbouncertest: pgbouncer exited during start: %s", s.Logs())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgbouncertest: pgbouncer not listening after 15s: %s", s.Logs())
		}
	}
}

// URL returns a connection URL for database db as user postgres.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// Logs returns PgBouncer's log file.
func (s *Server) Logs() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// Close stops PgBouncer and removes its files.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		pgcluster.StopProcess(s.cmd, s.done, syscall.SIGINT, 10*time.Second)
		s.cmd = nil
	}
	return os.RemoveAll(s.Dir)
}

// New starts a PgBouncer for one test and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
