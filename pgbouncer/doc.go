// Package pgbouncer reads PgBouncer's admin console (the virtual
// "pgbouncer" database): SHOW CONFIG, SHOW POOLS and SHOW DATABASES, and
// checks a fleet's connection budget against both sides of the pooler —
// clients against max_client_conn, server connections against
// max_db_connections and PostgreSQL's max_connections.
//
// The admin console speaks only the simple query protocol and is not a
// database: it has no pg_settings, no prepared statements and no
// transactions. The package therefore opens one pgx connection in
// QueryExecModeSimpleProtocol and reads results by column name through
// pgconn, rather than an instrumented pgpool pool (whose exec mode still
// uses the extended protocol, which the console rejects, and whose open
// reads server limits the console does not have; see the test
// TestPgpoolCannotReadTheAdminConsole).
package pgbouncer
