// Package sqlload provides load-generator targets that go through
// poolpilot's instrumented pool (pgpool): any SQL query, "select 1", and the
// ledger workload against ledger.Store. Each samples the pool's acquire-wait
// p95 and utilization once a second for the report.
package sqlload
