// Package pgcluster starts ephemeral PostgreSQL clusters, for the demo and
// (through internal/pgtest) for tests: initdb into a temporary directory, a
// free port on 127.0.0.1 and a private unix socket, trust authentication,
// settings passed in, stopped and removed by Close. When the process runs as
// root, the cluster runs as the "postgres" system user, because initdb and
// postgres refuse to run as root.
//
// It does not import the testing package, so a binary may use it;
// internal/pgtest adds the testing.TB helpers on top.
package pgcluster
