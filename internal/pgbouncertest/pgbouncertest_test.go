package pgbouncertest

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/poolpilot/poolpilot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

func TestThroughPgBouncer(t *testing.T) {
	u, err := url.Parse(pgtest.SharedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	b := New(t, Options{UpstreamPort: port, PoolMode: "transaction", PoolSize: 2})
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(b.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect through pgbouncer: %v\n%s", err, b.Logs())
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "select 41 + 1").Scan(&n); err != nil || n != 42 {
		t.Fatalf("query through pgbouncer: %d %v", n, err)
	}
	admin, err := pgx.ParseConfig(b.URL("pgbouncer"))
	if err != nil {
		t.Fatal(err)
	}
	admin.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	ac, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		t.Fatalf("admin console: %v", err)
	}
	defer ac.Close(ctx)
	rows, err := ac.Query(ctx, "SHOW CONFIG")
	if err != nil {
		t.Fatal(err)
	}
	mode := ""
	for rows.Next() {
		vals, _ := rows.Values()
		if len(vals) >= 2 && vals[0] == "pool_mode" {
			mode, _ = vals[1].(string)
		}
	}
	if mode != "transaction" {
		t.Errorf("pool_mode = %q, want transaction", mode)
	}
}
