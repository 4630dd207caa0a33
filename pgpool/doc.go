// Package pgpool is poolpilot's instrumented PostgreSQL pool: pgx v5's
// pgxpool configured from the seed's environment variables (DATABASE_URL,
// DB_POOL_MAX, DB_POOL_MIN, DB_POOL_IDLE_TIMEOUT, DB_POOL_CONNECTION_TIMEOUT,
// DB_POOL_MAX_LIFETIME, DB_POOL_HEALTH_CHECK_PERIOD, DB_POOL_POOLER), strictly
// validated, with acquire-wait percentiles, churn and refusal counters, a
// server connection budget, pooler awareness and live resize.
//
// It is the only package that imports pgx; the aliases below let services
// use pgx's types without importing it.
package pgpool
