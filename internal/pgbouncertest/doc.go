// Package pgbouncertest runs a real PgBouncer (the Debian package's
// /usr/sbin/pgbouncer) in front of a test PostgreSQL: a generated ini and
// userlist, a free port on 127.0.0.1, auth_type trust, a chosen pool_mode.
// When the tests run as root it runs PgBouncer as the postgres system user,
// as internal/pgtest does for the server.
package pgbouncertest
