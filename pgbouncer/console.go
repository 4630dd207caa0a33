package pgbouncer

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/redact"
)

// Console is a connection to PgBouncer's admin console.
type Console struct {
	conn *pgx.Conn
	dsn  string // redacted
}

// Connect opens the admin console. url must name the database "pgbouncer"
// and a user listed in admin_users or stats_users.
func Connect(ctx context.Context, url string) (*Console, error) {
	red := pgpool.Redact(url)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgbouncer admin URL %s: %s", red, pgpool.Redact(err.Error()))
	}
	if cfg.Database != "pgbouncer" {
		return nil, fmt.Errorf("pgbouncer admin URL %s: database is %q, want \"pgbouncer\" (the admin console)", red, cfg.Database)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.StatementCacheCapacity, cfg.DescriptionCacheCapacity = 0, 0
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to pgbouncer admin console %s: %s", red, scrub(err, url))
	}
	return &Console{conn: conn, dsn: red}, nil
}

// Close closes the console connection.
func (c *Console) Close(ctx context.Context) error { return c.conn.Close(ctx) }

var showWord = regexp.MustCompile(`^[A-Za-z_]+$`)

// Show runs SHOW <what> and returns each row as column → text value (NULL
// is the empty string).
func (c *Console) Show(ctx context.Context, what string) ([]map[string]string, error) {
	if !showWord.MatchString(what) {
		return nil, fmt.Errorf("pgbouncer: SHOW %q: want a single word such as POOLS", what)
	}
	res, err := c.conn.PgConn().Exec(ctx, "SHOW "+strings.ToUpper(what)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("pgbouncer %s: SHOW %s: %s", c.dsn, strings.ToUpper(what), pgpool.Redact(err.Error()))
	}
	var out []map[string]string
	for _, r := range res {
		for _, row := range r.Rows {
			m := make(map[string]string, len(row))
			for i, fd := range r.FieldDescriptions {
				m[fd.Name] = string(row[i])
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// Exec runs an admin command (SET, RELOAD, PAUSE …) and returns its tag.
func (c *Console) Exec(ctx context.Context, command string) (string, error) {
	res, err := c.conn.PgConn().Exec(ctx, command).ReadAll()
	if err != nil {
		return "", fmt.Errorf("pgbouncer %s: %s", c.dsn, pgpool.Redact(err.Error()))
	}
	if len(res) == 0 {
		return "", nil
	}
	return res[len(res)-1].CommandTag.String(), nil
}

func scrub(err error, url string) string {
	msg := err.Error()
	if cfg, perr := pgx.ParseConfig(url); perr == nil && cfg.Password != "" {
		msg = redact.Secrets(msg, cfg.Password)
	}
	return pgpool.Redact(msg)
}

// atoi reads an integer column; a missing or empty column is 0.
func atoi(m map[string]string, key string) (int, error) {
	v := strings.TrimSpace(m[key])
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("pgbouncer column %s = %q is not an integer", key, v)
	}
	return n, nil
}

// ServerLimits reads PostgreSQL's connection limits over a direct
// connection to dsn (not through PgBouncer: the budget's server side is
// judged against the server itself).
func ServerLimits(ctx context.Context, dsn string) (pgpool.ServerLimits, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return pgpool.ServerLimits{}, fmt.Errorf("connect to %s: %s", pgpool.Redact(dsn), scrub(err, dsn))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return pgpool.ReadServerLimits(ctx, conn)
}
