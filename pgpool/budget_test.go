package pgpool

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/testutil"
)

// TestBudgetSeedCase is the seed's max 200 against a default server's 100.
func TestBudgetSeedCase(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{Settings: map[string]string{"max_connections": "100"}})
	var logs testutil.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg, err := LoadConfig(envOf(map[string]string{EnvDatabaseURL: srv.URL("postgres"), EnvMax: "200", EnvMin: "0"}))
	if err != nil {
		t.Fatal(err)
	}
	p := openTest(t, cfg, Options{Logger: log})
	b := p.Budget()
	if b == nil {
		t.Fatal("no budget")
	}
	if b.OK || b.MaxConnections != 100 || b.SuperuserReserved != 3 || b.ReservedConnections != 0 || b.PoolMax != 200 {
		t.Fatalf("budget %+v", b)
	}
	// A client that just left (the harness's readiness probe) may still be
	// in pg_stat_activity for a moment: at most one such other connection.
	if b.OtherConnections > 1 {
		t.Fatalf("other connections on a private cluster: %d", b.OtherConnections)
	}
	avail := 97 - b.OtherConnections
	want := fmt.Sprintf("DB_POOL_MAX 200 exceeds what the server can serve: max_connections 100 − superuser_reserved 3 − %d other connections = %d", b.OtherConnections, avail)
	if b.Message != want || b.Available != avail {
		t.Errorf("message %q (available %d), want %q", b.Message, b.Available, want)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), want) {
		t.Errorf("no loud WARN with the numbers:\n%s", logs.String())
	}
	// A resize within the budget makes it OK; ServerLimits is fresh.
	if err := p.Resize(context.Background(), 50, 0); err != nil {
		t.Fatal(err)
	}
	if b := p.Budget(); !b.OK || b.PoolMax != 50 {
		t.Errorf("after resize to 50: %+v", b)
	}
	lim, err := p.ServerLimits(context.Background())
	if err != nil || lim.MaxConnections != 100 || lim.OtherConnections > 1 || !strings.HasPrefix(lim.Version, "1") {
		t.Errorf("ServerLimits = %+v, %v", lim, err)
	}
}

// TestServerRefusals counts SQLSTATE 53300 as its own kind: a pool whose max
// exceeds the server's max_connections hits "too many clients".
func TestServerRefusals(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{Settings: map[string]string{"max_connections": "6", "superuser_reserved_connections": "1"}})
	cfg := testConfig(t, srv.URL("postgres"), 10, 0)
	p := openTest(t, cfg, Options{})
	ctx := context.Background()
	var held []*Conn
	var refusal error
	for range 10 {
		c, err := p.Acquire(ctx)
		if err != nil {
			refusal = err
			break
		}
		held = append(held, c)
	}
	for _, c := range held {
		c.Release()
	}
	if refusal == nil || !strings.Contains(refusal.Error(), "53300") {
		t.Fatalf("want a 53300 refusal after %d connections, got %v", len(held), refusal)
	}
	s := p.Stats()
	if s.ServerRefusals < 1 || s.AcquireTimeouts != 0 {
		t.Errorf("refusals %d timeouts %d", s.ServerRefusals, s.AcquireTimeouts)
	}
	if s.Waiting != 0 || s.Acquired != 0 {
		t.Errorf("after release: waiting %d acquired %d", s.Waiting, s.Acquired)
	}
}

// TestPingAtFullUtilisation: Ping must not queue behind a saturated pool.
func TestPingAtFullUtilisation(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const app = "pgpool-ping-test"
	p := openTest(t, testConfig(t, dsn, 2, 0), Options{AppName: app})
	ctx := context.Background()
	a, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	defer b.Release()
	for range 3 {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		start := time.Now()
		err := p.Ping(pctx)
		cancel()
		if err != nil {
			t.Fatalf("Ping at full utilisation: %v", err)
		}
		if d := time.Since(start); d > 900*time.Millisecond {
			t.Fatalf("Ping took %s", d)
		}
	}
	srv := newServerCount(t, dsn, app+"-monitor")
	if n := srv.get(t); n != 1 {
		t.Errorf("monitor connections = %d, want 1", n)
	}
	if s := p.Stats(); s.Waiting != 0 || s.Acquires != 2 {
		t.Errorf("Ping must not count as a waiting acquire: %+v", s)
	}
	// With a free slot Ping uses the pool.
	b.Release()
	if err := p.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestConnectionTimeoutBoundsDial: a server that accepts TCP but never
// answers must not hold an acquire longer than DB_POOL_CONNECTION_TIMEOUT.
func TestConnectionTimeoutBoundsDial(t *testing.T) {
	srv := pgtest.New(t, pgtest.Options{})
	cfg := testConfig(t, srv.URL("postgres"), 2, 0)
	cfg.ConnectTimeout = 300 * time.Millisecond
	p := openTest(t, cfg, Options{})
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // accept and say nothing
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx := context.Background()
	_, _ = p.Exec(ctx, "select 1") // the idle connection is dead: closed as broken
	start := time.Now()
	_, err = p.Acquire(ctx)
	if err == nil {
		t.Fatal("acquire against a silent server succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("acquire took %s with a 300ms connection timeout", d)
	}
	if s := p.Stats(); s.AcquireTimeouts < 1 {
		t.Errorf("acquire_timeouts = %d after %v", s.AcquireTimeouts, err)
	}
}
