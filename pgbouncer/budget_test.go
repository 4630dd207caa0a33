package pgbouncer

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/poolpilot/poolpilot/pgpool"
)

func TestComputeBudget(t *testing.T) {
	state := State{
		Config:    Config{PoolMode: "transaction", DefaultPoolSize: 20, ReservePoolSize: 5, MaxClientConn: 1000},
		Databases: []Database{{Name: "ledger", PoolSize: 40, ReservePool: 5}},
		Pools:     []Pool{{Database: "ledger", User: "app", SvActive: 10, SvIdle: 5}, {Database: "other", SvActive: 7}},
	}
	pg := pgpool.ServerLimits{MaxConnections: 100, SuperuserReserved: 3, OtherConnections: 27}
	cases := []struct {
		name                string
		edit                func(*State, *BudgetInput)
		client, server, pgv int
		ok                  bool
		line                string
	}{
		{"fits", nil, 13 * 10, 45, 85, true, "server side: 1 user(s) × (pool_size 40 + reserve_pool 5 of database ledger) = 45"},
		{"seed max 200 overflows max_client_conn", func(_ *State, in *BudgetInput) { in.PoolMax = 200 }, 2600, 45, 85, false, "client side: 13 instances × DB_POOL_MAX 200 + 0 other clients = 2600 > (DOES NOT FIT) max_client_conn 1000"},
		{"two users double the server side", func(_ *State, in *BudgetInput) { in.Users = 2 }, 130, 90, 85, false, "server side 90 > (DOES NOT FIT) 85 available on PostgreSQL"},
		{"max_db_connections caps it", func(s *State, in *BudgetInput) { in.Users = 2; s.Config.MaxDBConnections = 60 }, 130, 60, 85, true, "capped by max_db_connections = 60"},
		{"database-level cap is tighter", func(s *State, in *BudgetInput) {
			in.Users = 2
			s.Config.MaxDBConnections = 60
			s.Databases[0].MaxConnections = 50
		}, 130, 50, 85, true, "capped by max_db_connections of database ledger = 50"},
		{"max_user_connections caps each user", func(s *State, in *BudgetInput) { in.Users = 2; s.Config.MaxUserConnections = 30 }, 130, 60, 85, true, "capped by max_user_connections 30) = 60"},
		{"auto database uses the defaults", func(s *State, in *BudgetInput) { s.Databases = nil }, 130, 25, 85, true, "database ledger not listed yet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := state
			s.Databases = append([]Database(nil), state.Databases...)
			in := BudgetInput{Database: "ledger", Instances: 13, PoolMax: 10, Server: pg}
			if tc.edit != nil {
				tc.edit(&s, &in)
			}
			b := ComputeBudget(s, in)
			if b.ClientConnections != tc.client || b.ServerConnections != tc.server || b.PostgresAvailable != tc.pgv || b.OK != tc.ok {
				t.Errorf("budget %+v\n%s", b, b.Text())
			}
			if !strings.Contains(b.Text(), tc.line) {
				t.Errorf("arithmetic lacks %q:\n%s", tc.line, b.Text())
			}
		})
	}
}

// TestBudgetAgainstRealPgBouncer reads both sides for real: PgBouncer's
// console and PostgreSQL's limits over a direct connection.
func TestBudgetAgainstRealPgBouncer(t *testing.T) {
	b, db, direct := bouncer(t)
	c := console(t, b)
	ctx := context.Background()
	holdTransactions(t, b.URL(db), 2)
	conn, err := pgx.Connect(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	lim, err := pgpool.ReadServerLimits(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := BudgetInput{Database: db, Instances: 3, PoolMax: 200, Server: lim}
	bud := ComputeBudget(s, in)
	t.Log(bud.Text())
	if bud.ClientOK || bud.ClientConnections != 600 || bud.MaxClientConn != 500 {
		t.Errorf("3 × 200 against max_client_conn 500: %+v", bud)
	}
	if !bud.ServerOK || bud.ServerConnections != 5 {
		t.Errorf("server side %+v", bud)
	}
	// PgBouncer's two server connections for db are not counted twice.
	if !strings.Contains(bud.Text(), "of which 2 are PgBouncer's") {
		t.Errorf("arithmetic:\n%s", bud.Text())
	}
	in.Instances = 2
	if bud := ComputeBudget(s, in); !bud.OK {
		t.Errorf("2 × 200 ≤ 500 should fit:\n%s", bud.Text())
	}
}
