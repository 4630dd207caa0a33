package pgbouncer

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/poolpilot/poolpilot/internal/pgbouncertest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

// bouncer starts a real PgBouncer (transaction mode, pool size 5, 500
// clients) in front of a fresh database and returns it with the database
// name and the direct URL.
func bouncer(t *testing.T) (*pgbouncertest.Server, string, string) {
	t.Helper()
	direct := pgtest.NewDatabase(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	b := pgbouncertest.New(t, pgbouncertest.Options{UpstreamPort: port, PoolMode: "transaction", PoolSize: 5, MaxClients: 500})
	return b, strings.TrimPrefix(u.Path, "/"), direct
}

func console(t *testing.T, b *pgbouncertest.Server) *Console {
	t.Helper()
	c, err := Connect(context.Background(), b.URL("pgbouncer"))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Logs())
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// holdTransactions opens n client connections through PgBouncer, each in
// an open transaction holding a server connection, until release is closed.
func holdTransactions(t *testing.T, dsn string, n int) (release func()) {
	t.Helper()
	ctx := context.Background()
	var conns []*pgx.Conn
	for i := 0; i < n; i++ {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "begin; select 1"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			for _, c := range conns {
				c.Exec(ctx, "rollback")
				c.Close(ctx)
			}
		})
	}
	t.Cleanup(release)
	return release
}

func TestReadConsole(t *testing.T) {
	b, db, _ := bouncer(t)
	c := console(t, b)
	ctx := context.Background()
	holdTransactions(t, b.URL(db), 3)
	s, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Config
	if cfg.PoolMode != "transaction" || cfg.DefaultPoolSize != 5 || cfg.MaxClientConn != 500 || cfg.MaxDBConnections != 0 {
		t.Errorf("config %+v", cfg)
	}
	var pool *Pool
	for i := range s.Pools {
		if s.Pools[i].Database == db {
			pool = &s.Pools[i]
		}
	}
	if pool == nil {
		t.Fatalf("SHOW POOLS has no pool for %s: %+v", db, s.Pools)
	}
	if pool.ClActive != 3 || pool.SvActive != 3 || pool.User != "postgres" || pool.PoolMode != "transaction" {
		t.Errorf("pool %+v, want 3 active clients on 3 active servers", *pool)
	}
	var dbRow *Database
	for i := range s.Databases {
		if s.Databases[i].Name == db {
			dbRow = &s.Databases[i]
		}
	}
	if dbRow == nil || dbRow.PoolSize != 5 || dbRow.Port == 0 || dbRow.Database != db || dbRow.CurrentConnects != 3 {
		t.Errorf("database row %+v", dbRow)
	}
	// A runtime SET is read back: the budget sees max_db_connections.
	if _, err := c.Exec(ctx, "SET max_db_connections = 4"); err != nil {
		t.Fatal(err)
	}
	if cfg, err := c.Config(ctx); err != nil || cfg.MaxDBConnections != 4 {
		t.Errorf("max_db_connections after SET: %d %v", cfg.MaxDBConnections, err)
	}
}

func TestClientsWaitInTransactionMode(t *testing.T) {
	b, db, _ := bouncer(t)
	c := console(t, b)
	release := holdTransactions(t, b.URL(db), 5) // the whole pool
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		cfg, _ := pgx.ParseConfig(b.URL(db))
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			_, err = conn.Exec(ctx, "select 1")
			conn.Close(context.Background())
		}
		done <- err
	}()
	for {
		pools, err := c.Pools(ctx)
		if err != nil {
			t.Fatal(err)
		}
		waiting := 0
		for _, p := range pools {
			if p.Database == db {
				waiting = p.ClWaiting
			}
		}
		if waiting == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no waiting client seen in SHOW POOLS: %+v", pools)
		case <-time.After(20 * time.Millisecond):
		}
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("waiting client: %v", err)
	}
}

func TestConnectErrors(t *testing.T) {
	b, db, _ := bouncer(t)
	ctx := context.Background()
	if _, err := Connect(ctx, b.URL(db)); err == nil || !strings.Contains(err.Error(), `want "pgbouncer"`) {
		t.Errorf("non-admin database: %v", err)
	}
	bad := strings.Replace(b.URL("pgbouncer"), "postgres@", "postgres:s3cret@", 1)
	bad = strings.Replace(bad, strconv.Itoa(b.Port), "1", 1)
	_, err := Connect(ctx, bad)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unreachable console: %v (must fail without the password)", err)
	}
	c := console(t, b)
	if _, err := c.Show(ctx, "POOLS; SHUTDOWN"); err == nil {
		t.Error("SHOW with a second statement accepted")
	}
}

// TestPgpoolCannotReadTheAdminConsole is why this package uses pgx in
// simple-protocol mode: pgpool in transaction-pooler (exec) mode still
// sends the extended protocol, which the admin console rejects.
func TestPgpoolCannotReadTheAdminConsole(t *testing.T) {
	b, _, _ := bouncer(t)
	env := map[string]string{"DATABASE_URL": b.URL("pgbouncer"), "DB_POOL_MAX": "1", "DB_POOL_MIN": "0", "DB_POOL_POOLER": "transaction"}
	cfg, err := pgpool.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := pgpool.Open(ctx, cfg, pgpool.Options{})
	if err != nil {
		t.Logf("pgpool cannot even open on the admin console: %v", err)
		return
	}
	defer p.Close()
	rows, err := p.Query(ctx, "SHOW POOLS")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil {
		t.Fatal("pgpool read SHOW POOLS: the package could use pgpool instead of pgx")
	}
	t.Logf("pgpool (exec mode) on the admin console: %v", err)
}
