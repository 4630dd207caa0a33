package pgbouncer

import (
	"fmt"
	"strings"

	"github.com/poolpilot/poolpilot/budget"
	"github.com/poolpilot/poolpilot/pgpool"
)

// BudgetInput is the fleet behind PgBouncer and the PostgreSQL behind it.
type BudgetInput struct {
	// Database is the PgBouncer database name the service connects to.
	Database string
	// Users is how many distinct users the service logs in as (default 1);
	// PgBouncer keeps one pool per (database, user).
	Users int
	// Instances is the peak instance count (max replicas + surge).
	Instances int
	// PoolMax is DB_POOL_MAX per instance.
	PoolMax int
	// OtherClients are other client connections to PgBouncer.
	OtherClients int
	// Server is PostgreSQL's limits read over a direct connection; its
	// OtherConnections include PgBouncer's current server connections.
	Server pgpool.ServerLimits
}

// Budget is both sides of the pooler.
type Budget struct {
	ClientConnections int  `json:"client_connections"`
	MaxClientConn     int  `json:"max_client_conn"`
	ClientOK          bool `json:"client_ok"`
	// ServerConnections is the most server connections PgBouncer opens for
	// the service's database.
	ServerConnections int  `json:"server_connections"`
	PostgresAvailable int  `json:"postgres_available"`
	ServerOK          bool `json:"server_ok"`
	OK                bool `json:"ok"`
	// Lines is the arithmetic, one step a line.
	Lines []string `json:"lines"`
}

// Text is the arithmetic as a block of text.
func (b Budget) Text() string { return strings.Join(b.Lines, "\n") + "\n" }

// ComputeBudget checks in against what the console reported: the
// arithmetic is budget.Compute's, with PgBouncer's pool sizes and caps.
func ComputeBudget(s State, in BudgetInput) Budget {
	var b Budget
	say := func(format string, args ...any) { b.Lines = append(b.Lines, fmt.Sprintf(format, args...)) }
	users := max(in.Users, 1)
	b.ServerConnections, b.Lines = serverConnections(s, in.Database, users)
	current := 0
	for _, p := range s.Pools {
		if p.Database == in.Database {
			current += p.Servers()
		}
	}
	l := in.Server
	l.OtherConnections = max(in.Server.OtherConnections-current, 0)
	r := budget.Compute(budget.Input{Limits: l, Fleet: budget.Fleet{Instances: in.Instances}, PoolMax: in.PoolMax,
		Others: in.OtherClients, Pooler: &budget.Pooler{ClientLimit: s.Config.MaxClientConn, ServerConnections: b.ServerConnections}})
	b.ClientConnections, b.MaxClientConn, b.ClientOK = r.Needed+r.Others, s.Config.MaxClientConn, r.PoolsFit
	b.PostgresAvailable = l.Available()
	b.ServerOK = r.Server == nil || r.Server.Fits
	client := fmt.Sprintf("client side: %d instances × DB_POOL_MAX %d + %d other clients = %d %s max_client_conn %d",
		in.Instances, in.PoolMax, in.OtherClients, b.ClientConnections, cmp(b.ClientOK), b.MaxClientConn)
	b.Lines = append([]string{client}, b.Lines...)
	say("postgres: max_connections %d − superuser_reserved %d − reserved %d − %d other connections (%d connected, of which %d are PgBouncer's for %s) = %d",
		l.MaxConnections, l.SuperuserReserved, l.ReservedConnections, l.OtherConnections, in.Server.OtherConnections, current, in.Database, b.PostgresAvailable)
	say("server side %d %s %d available on PostgreSQL", b.ServerConnections, cmp(b.ServerOK), b.PostgresAvailable)
	if s.Config.PoolMode == "transaction" && b.ClientConnections > b.ServerConnections {
		say("note: %d client connections share %d server connections (transaction mode): clients queue in PgBouncer (SHOW POOLS cl_waiting, maxwait) when more than %d transactions run at once",
			b.ClientConnections, b.ServerConnections, b.ServerConnections)
	}
	b.OK = r.Fits
	return b
}

// serverConnections is the most server connections PgBouncer opens for db
// as users users, with the arithmetic.
func serverConnections(s State, db string, users int) (int, []string) {
	perUser, how := poolSize(s, db)
	if mu := s.Config.MaxUserConnections; mu > 0 && mu < perUser {
		perUser, how = mu, how+fmt.Sprintf(", capped by max_user_connections %d", mu)
	}
	n := users * perUser
	lines := []string{fmt.Sprintf("server side: %d user(s) × (%s) = %d", users, how, n)}
	if limit, what := serverCap(s, db); limit > 0 && n > limit {
		n = limit
		lines = append(lines, fmt.Sprintf("capped by %s = %d", what, limit))
	}
	return n, lines
}

func cmp(ok bool) string {
	if ok {
		return "≤"
	}
	return "> (DOES NOT FIT)"
}

// poolSize is the most server connections one (database, user) pool opens.
func poolSize(s State, db string) (int, string) {
	for _, d := range s.Databases {
		if d.Name == db {
			return d.PoolSize + d.ReservePool, fmt.Sprintf("pool_size %d + reserve_pool %d of database %s", d.PoolSize, d.ReservePool, db)
		}
	}
	c := s.Config
	return c.DefaultPoolSize + c.ReservePoolSize, fmt.Sprintf("default_pool_size %d + reserve_pool_size %d; database %s not listed yet (auto-database)", c.DefaultPoolSize, c.ReservePoolSize, db)
}

// serverCap is the tightest of the database's max_db_connections and the
// global one (0: unlimited).
func serverCap(s State, db string) (int, string) {
	limit, what := s.Config.MaxDBConnections, "max_db_connections"
	for _, d := range s.Databases {
		if d.Name == db && d.MaxConnections > 0 && (limit == 0 || d.MaxConnections < limit) {
			limit, what = d.MaxConnections, "max_db_connections of database "+db
		}
	}
	return limit, what
}
