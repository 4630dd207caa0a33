package pgpool

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/redact"
)

// recordingTracer is a pgx.QueryTracer that keeps the SQL it sees.
type recordingTracer struct {
	mu   sync.Mutex
	sqls []string
	ends atomic.Int64
}

func (r *recordingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	r.sqls = append(r.sqls, d.SQL)
	r.mu.Unlock()
	return ctx
}

func (r *recordingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {
	r.ends.Add(1)
}

func (r *recordingTracer) saw(sql string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sqls {
		if s == sql {
			return true
		}
	}
	return false
}

// TestHooksRunBesidePoolHooks: the caller's tracer sees the queries, its
// BeforeConnect sets a per-connection password and its AfterConnect runs
// once per connection, while the pool still counts the connections it
// opened and times their dials.
func TestHooksRunBesidePoolHooks(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	tr := &recordingTracer{}
	var befores, afters atomic.Int64
	opts := Options{
		Tracer: tr,
		BeforeConnect: func(_ context.Context, cc *pgx.ConnConfig) error {
			n := befores.Add(1)
			cc.Password = fmt.Sprintf("iam-token-%d", n) // trust auth ignores it
			cc.RuntimeParams["application_name"] = "hooked"
			return nil
		},
		AfterConnect: func(ctx context.Context, c *pgx.Conn) error {
			afters.Add(1)
			_, err := c.Exec(ctx, "set search_path = pg_catalog")
			return err
		},
	}
	p := openTest(t, testConfig(t, dsn, 3, 1), opts)
	ctx := context.Background()
	var path, app string
	if err := p.QueryRow(ctx, "select current_setting('search_path'), current_setting('application_name')").Scan(&path, &app); err != nil {
		t.Fatal(err)
	}
	if path != "pg_catalog" || app != "hooked" {
		t.Errorf("search_path %q application_name %q: the caller's hooks did not shape the connection", path, app)
	}
	if !tr.saw("select current_setting('search_path'), current_setting('application_name')") || tr.ends.Load() == 0 {
		t.Errorf("tracer did not receive the query: %q", tr.sqls)
	}
	st := p.Stats()
	if st.Opened == 0 || afters.Load() != st.Opened || befores.Load() < st.Opened {
		t.Errorf("pool opened %d connections; BeforeConnect ran %d times, AfterConnect %d", st.Opened, befores.Load(), afters.Load())
	}
	if st.DialP95MS <= 0 {
		t.Errorf("the pool's own dial timing is gone: dial p95 %v ms", st.DialP95MS)
	}
}

// TestAfterConnectErrorKeepsType: an AfterConnect failure fails the
// acquire with the caller's error findable by errors.Is, and the pool
// does not count a connection it never handed out.
func TestAfterConnectErrorKeepsType(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	errTypes := errors.New("register custom types: no such type")
	var fail atomic.Bool
	p := openTest(t, testConfig(t, dsn, 3, 0), Options{AfterConnect: func(context.Context, *pgx.Conn) error {
		if fail.Load() {
			return errTypes
		}
		return nil
	}})
	ctx := context.Background()
	held, err := p.Acquire(ctx) // the pool's only connection
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	fail.Store(true)
	before := p.Stats().Opened
	_, err = p.Exec(ctx, "select 1")
	if !errors.Is(err, errTypes) {
		t.Fatalf("Exec error %v: the AfterConnect error is lost", err)
	}
	if got := p.Stats().Opened; got != before {
		t.Errorf("opened went %d -> %d for a connection AfterConnect refused", before, got)
	}
}

// TestRefusalIsAPgErrorWithRedactedText: a role limited to one connection
// makes the server refuse the pool's second one with SQLSTATE 53300; the
// pool's error unwraps to *pgconn.PgError while its text holds neither the
// DATABASE_URL password nor the one BeforeConnect set.
func TestRefusalIsAPgErrorWithRedactedText(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	role := fmt.Sprintf("pp_limited_%d", os.Getpid())
	admin(t, dsn, "create role "+role+" login connection limit 1")
	t.Cleanup(func() { admin(t, dsn, "drop role if exists "+role) })
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword(role, "dsn-Secret-1")
	cfg := testConfig(t, u.String(), 3, 0)
	p := openTest(t, cfg, Options{BeforeConnect: func(_ context.Context, cc *pgx.ConnConfig) error {
		cc.Password = "iam-Secret-2"
		return nil
	}})
	ctx := context.Background()
	held, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	_, err = p.Exec(ctx, "select 1")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "53300" {
		t.Fatalf("error %v (%T): want a *pgconn.PgError with SQLSTATE 53300", err, err)
	}
	for _, secret := range []string{"dsn-Secret-1", "iam-Secret-2"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error text holds a password: %s", err)
		}
	}
	if p.Stats().ServerRefusals == 0 {
		t.Error("the refusal was not counted")
	}
}

// TestRedactedErrorScrubsHookPasswords: an error whose text echoes the
// DSN password and a token BeforeConnect set comes back with both
// replaced, and still unwraps to the original error.
func TestRedactedErrorScrubsHookPasswords(t *testing.T) {
	p := &Pool{cfg: Config{DatabaseURL: "postgres://u:dsn-pw-9@h/db"}, hooks: &hooks{}}
	cc := &pgx.ConnConfig{}
	p.hooks.before = func(_ context.Context, cc *pgx.ConnConfig) error { cc.Password = "tok-ABC"; return nil }
	if err := p.hooks.beforeConnect(context.Background(), cc); err != nil {
		t.Fatal(err)
	}
	inner := &pgconn.PgError{Code: "28P01", Message: "login with tok-ABC or dsn-pw-9 failed"}
	err := fmt.Errorf("acquire: %w", p.redact(inner))
	if strings.Contains(err.Error(), "tok-ABC") || strings.Contains(err.Error(), "dsn-pw-9") {
		t.Errorf("password in %q", err)
	}
	if !strings.Contains(err.Error(), redact.Placeholder) {
		t.Errorf("no redaction marker in %q", err)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Errorf("errors.As lost the PgError: %v", err)
	}
}

// admin runs statements on the database at dsn as the test superuser.
func admin(t *testing.T, dsn string, sqls ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, s := range sqls {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
