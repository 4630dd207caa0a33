// Package pgstat is the criteria source of PostgreSQL server statistics:
// client connections by state and by application (pg_stat_activity),
// clients waiting on locks, commits, rollbacks and deadlocks per second
// (pg_stat_database, all databases), max_connections and the reserved
// slots. It reads through a Querier, which *pgpool.Pool satisfies.
package pgstat
