// Package pgtest starts ephemeral PostgreSQL clusters for tests and the demo:
// initdb into a temporary directory, a free port on 127.0.0.1 and a private
// unix socket, trust authentication, settings passed in, stopped and removed
// on cleanup. When the process runs as root, the cluster runs as the
// "postgres" system user, because initdb and postgres refuse to run as root.
//
// POOLPILOT_TEST_DATABASE_URL, when set, points Shared at an existing server
// instead of starting one.
package pgtest
