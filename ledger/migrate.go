package ledger

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/poolpilot/poolpilot/pgpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrateLockKey is the advisory lock that serialises concurrent Migrate
// calls (several ledgerd instances starting at once).
const migrateLockKey = 0x1ed6e4d0

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number: %w", base, err)
		}
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// Migrate applies the embedded schema migrations that are not applied yet,
// in one transaction under an advisory lock: it is idempotent and safe when
// several instances start at once.
//
// A session that looked up the schema before another one created it can
// keep a stale catalog cache entry inside its transaction (an advisory lock
// does not refresh it), so a "duplicate"/"does not exist" error is retried
// in a fresh transaction, which does.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err = s.migrateOnce(ctx, ms)
		var pgErr *pgpool.PgError
		if err == nil || attempt == 5 || !errors.As(err, &pgErr) || !staleCatalogCodes[pgErr.Code] {
			return err
		}
	}
}

// staleCatalogCodes are the SQLSTATEs a stale catalog cache can cause:
// unique_violation, duplicate_schema, duplicate_table, invalid_schema_name,
// undefined_table.
var staleCatalogCodes = map[string]bool{"23505": true, "42P06": true, "42P07": true, "3F000": true, "42P01": true}

func (s *Store) migrateOnce(ctx context.Context, ms []migration) error {
	err := s.inTx(ctx, pgpool.TxOptions{}, func(tx pgpool.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLockKey)); err != nil {
			return fmt.Errorf("advisory lock: %w", err)
		}
		if _, err := tx.Exec(ctx, createMigrationsSQL); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM ledger.schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("read version: %w", err)
		}
		for _, m := range ms {
			if m.version <= current {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("apply %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO ledger.schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return fmt.Errorf("record %s: %w", m.name, err)
			}
		}
		return nil
	})
	return wrap("migrate", err)
}

const createMigrationsSQL = `CREATE SCHEMA IF NOT EXISTS ledger;
CREATE TABLE IF NOT EXISTS ledger.schema_migrations (
    version    int PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

// SchemaVersion returns the highest applied migration (0 before Migrate).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass('ledger.schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := s.pool.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM ledger.schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}
