package pgpool

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/testutil"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

// testConfig returns a valid config for dsn with small, fast settings.
func testConfig(t testing.TB, dsn string, max, min int) Config {
	t.Helper()
	cfg, err := LoadConfig(envOf(map[string]string{EnvDatabaseURL: dsn,
		EnvMax: itoa(max), EnvMin: itoa(min), EnvConnectionTimeout: "2s"}))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func itoa(n int) string { return strconv.Itoa(n) }

func openTest(t testing.TB, cfg Config, opts Options) *Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := Open(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// withPassword plants a password in a trust-auth URL (the server ignores it).
func withPassword(dsn, pw string) string {
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

func TestPoolQueriesAndStats(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	p := openTest(t, testConfig(t, dsn, 4, 2), Options{AppName: "pgpool-test"})
	ctx := context.Background()

	if _, err := p.Exec(ctx, "create table t (id int primary key, v text)"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := p.Exec(ctx, "insert into t values ($1, $2)", i, "x"); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := p.QueryRow(ctx, "select count(*) from t where v = $1", "x").Scan(&n); err != nil || n != 20 {
		t.Fatalf("count = %d, %v", n, err)
	}
	rows, err := p.Query(ctx, "select id from t order by id")
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		sum += id
	}
	if rows.Err() != nil || sum != 190 {
		t.Fatalf("sum = %d, %v", sum, rows.Err())
	}
	tx, err := p.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "delete from t where id < 10"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx) // after Commit: must not release twice
	if err := p.QueryRow(ctx, "select count(*) from t").Scan(&n); err != nil || n != 10 {
		t.Fatalf("after delete count = %d, %v", n, err)
	}
	if err := p.QueryRow(ctx, "select 1 where false").Scan(&n); !errors.Is(err, ErrNoRows) {
		t.Fatalf("want ErrNoRows, got %v", err)
	}

	s := p.Stats()
	if s.Max != 4 || s.Min != 2 || s.Acquired != 0 || s.Waiting != 0 {
		t.Fatalf("stats %+v", s)
	}
	if s.Acquires != 26 {
		t.Errorf("acquires = %d, want 26", s.Acquires)
	}
	// The keeper may be dialing toward min (2) right now: such a
	// connection counts in total as constructing, not yet as opened.
	if s.Opened < 1 || s.Total < 1 || s.Total > 4 || s.Idle+s.Constructing != s.Total {
		t.Errorf("opened %d total %d idle %d constructing %d", s.Opened, s.Total, s.Idle, s.Constructing)
	}
	if s.WaitP99MS <= 0 || s.WaitP50MS > s.WaitP95MS || s.WaitP95MS > s.WaitP99MS {
		t.Errorf("wait percentiles %v %v %v", s.WaitP50MS, s.WaitP95MS, s.WaitP99MS)
	}
	if s.DialP95MS <= 0 || s.Churn <= 0 || s.Churn > 1 {
		t.Errorf("dial p95 %v churn %v", s.DialP95MS, s.Churn)
	}
	if s.Source["max"] != poolpilot.FromEnv || s.QueryMode != "cache_statement" {
		t.Errorf("source %v mode %q", s.Source, s.QueryMode)
	}
	h := p.AcquireWaitHistogram()
	if h.Count != 26 || h.Buckets[10] != 26 || h.SumSeconds <= 0 {
		t.Errorf("histogram %+v", h)
	}
	// Min is kept by the keeper.
	waitFor(t, 5*time.Second, func() bool { return p.Stats().Total >= 2 }, "total >= min 2")
}

func TestPasswordNeverLogged(t *testing.T) {
	const pw = "Pl4nted-Secret-9"
	dsn := withPassword(pgtest.NewDatabase(t), pw)
	var logs testutil.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := openTest(t, testConfig(t, dsn, 2, 0), Options{Logger: log})
	ctx := context.Background()
	if _, err := p.Exec(ctx, "select 1"); err != nil {
		t.Fatal(err)
	}
	if err := p.Resize(ctx, 3, 1); err != nil {
		t.Fatal(err)
	}
	_, qerr := p.Exec(ctx, "select * from no_such_table")

	// A server that is not there: the connect error must not hold the password.
	bad := testConfig(t, withPassword("postgres://app@127.0.0.1:1/db?sslmode=disable", pw), 2, 0)
	bad.ConnectTimeout = 500 * time.Millisecond
	_, oerr := Open(ctx, bad, Options{Logger: log})
	if oerr == nil {
		t.Fatal("Open on a closed port succeeded")
	}
	_, lerr := LoadConfig(envOf(map[string]string{EnvDatabaseURL: "postgres://app:" + pw + "@h:port/db"}))
	p.Close()
	for name, text := range map[string]string{"logs": logs.String(), "open error": oerr.Error(),
		"query error": qerr.Error(), "config error": lerr.Error(), "redacted dsn": p.dsn} {
		if strings.Contains(text, pw) {
			t.Errorf("%s leak the password: %s", name, text)
		}
	}
	if !strings.Contains(logs.String(), "[REDACTED]") || !strings.Contains(oerr.Error(), "[REDACTED]") {
		t.Errorf("expected the redacted DSN in logs and errors:\n%s\n%v", logs.String(), oerr)
	}
}

func TestAcquireTimeoutWaitingAndQueue(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	cfg := testConfig(t, dsn, 1, 0)
	cfg.ConnectTimeout = 300 * time.Millisecond
	p := openTest(t, cfg, Options{})
	ctx := context.Background()
	c, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := p.Exec(ctx, "select 1")
		errc <- err
	}()
	waitFor(t, 2*time.Second, func() bool { return p.Stats().Waiting == 1 }, "one waiter")
	if s := p.Stats(); s.OldestWaitMS <= 0 || s.Utilization != 1 || s.Acquired != 1 {
		t.Errorf("while waiting: %+v", s)
	}
	err = <-errc
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "DB_POOL_CONNECTION_TIMEOUT") {
		t.Fatalf("want a timeout naming DB_POOL_CONNECTION_TIMEOUT, got %v", err)
	}
	// A waiter that is served after queueing records its queue time.
	go func() {
		_, err := p.Exec(ctx, "select 1")
		errc <- err
	}()
	waitFor(t, 2*time.Second, func() bool { return p.Stats().Waiting == 1 }, "second waiter")
	c.Release()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	c, _ = p.Acquire(ctx)
	go func() {
		_, err := p.Exec(cctx, "select 1")
		errc <- err
	}()
	waitFor(t, 2*time.Second, func() bool { return p.Stats().Waiting == 1 }, "third waiter")
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("want canceled, got %v", err)
	}
	c.Release()
	s := p.Stats()
	if s.AcquireTimeouts != 1 || s.AcquireCancels != 1 || s.Waiting != 0 {
		t.Errorf("timeouts %d cancels %d waiting %d", s.AcquireTimeouts, s.AcquireCancels, s.Waiting)
	}
	if s.QueueP95MS <= 0 {
		t.Errorf("queue p95 = %v, want > 0 (one of few acquires queued)", s.QueueP95MS)
	}
}

func waitFor(t testing.TB, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
