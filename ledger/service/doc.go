// Package service assembles ledgerd: it reads the configuration from the
// environment (DATABASE_URL and DB_POOL_* through pgpool.LoadConfig,
// LEDGERD_ADDR, POOLPILOT_ADMIN_TOKEN, LEDGERD_LOG_LEVEL,
// LEDGERD_SHUTDOWN_TIMEOUT), opens the instrumented pool, applies the ledger's
// migrations, and serves the /v1 ledger API with the httpapi surface
// (/healthz, /metrics, PUT /admin/pool) and fault injection
// (/admin/faults). cmd/ledgerd, `poolpilot demo` and the in-process test
// harness internal/ledgerdtest all start ledgerd through Start.
package service
