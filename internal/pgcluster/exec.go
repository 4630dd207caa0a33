package pgcluster

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// WithDatabase returns rawURL with its database name replaced by db.
func WithDatabase(rawURL, db string) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// keyword/value form
		return strings.TrimSpace(rawURL) + " dbname=" + db
	}
	u.Path = "/" + db
	return u.String()
}

// Exec runs each statement on the database at dsn, on one connection (so a
// statement such as CREATE DATABASE runs outside a transaction), within 30s.
// An error names the statement by its position, never its text: it may hold
// a password.
func Exec(dsn string, sqls ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for i, sql := range sqls {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("statement %d of %d: %w", i+1, len(sqls), err)
		}
	}
	return nil
}
