// Package hostcpu is the criteria source of the CPU used by a PostgreSQL
// server running on this host, read from /proc: the utime+stime of the
// postmaster and every live descendant (backends, background workers),
// plus the postmaster's cutime+cstime (the time of the backends that have
// already exited and been reaped), as a fraction of the host's cores
// (db.cpu, 0–1). For a remote server use a PromQL criterion instead
// (e.g. node_exporter's CPU of the database host).
package hostcpu
