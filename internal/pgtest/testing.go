package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgcluster"
)

// Server is a running (or stopped) ephemeral cluster.
type Server = pgcluster.Server

// Options configure a cluster.
type Options = pgcluster.Options

// EnvURL names the variable that points tests at an existing server.
const EnvURL = "POOLPILOT_TEST_DATABASE_URL"

// DefaultSettings are the settings of the shared test cluster: enough
// connections for pools of 200 plus the tests' own.
var DefaultSettings = map[string]string{"max_connections": "400"}

var shared struct {
	once sync.Once
	srv  *Server
	base string // URL of the admin database
	err  error
}

var dbSeq atomic.Int64

// RunMain runs the tests of a package and stops the shared cluster after them.
// Call it from TestMain: func TestMain(m *testing.M) { pgtest.RunMain(m) }.
func RunMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Close()
	}
	os.Exit(code)
}

// SharedURL returns the URL of the admin database ("postgres") of the shared
// test server, starting the cluster on first use, or the server named by
// POOLPILOT_TEST_DATABASE_URL.
func SharedURL(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			shared.base = u
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.srv, shared.err = pgcluster.Start(ctx, Options{Settings: DefaultSettings})
		if shared.err == nil {
			shared.base = shared.srv.URL("postgres")
		}
	})
	if shared.err != nil {
		t.Fatalf("pgtest: %v", shared.err)
	}
	return shared.base
}

// NewDatabase creates a fresh, empty database on the shared server and returns
// its URL; it is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	base := SharedURL(t)
	name := fmt.Sprintf("pp_%d_%d", os.Getpid(), dbSeq.Add(1))
	if err := adminExec(base, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := adminExec(base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return WithDatabase(base, name)
}

// New starts a private cluster for one test (for fault tests that stop or
// restart the server) and removes it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := pgcluster.Start(ctx, opts)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// WithDatabase returns rawURL with its database name replaced by db.
func WithDatabase(rawURL, db string) string { return pgcluster.WithDatabase(rawURL, db) }

// Exec runs each statement on database db of the server, on one connection
// (so a statement such as CREATE DATABASE runs outside a transaction).
func Exec(t testing.TB, s *Server, db string, sqls ...string) {
	t.Helper()
	if err := pgcluster.Exec(s.URL(db), sqls...); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

func adminExec(dsn string, sqls ...string) error { return pgcluster.Exec(dsn, sqls...) }
