// Package monitor runs the sources → criteria engine loop that the change
// controller's load test and soak watch: sources poll on their own tickers
// and feed the engine, the caller evaluates every interval, and every
// evaluation is kept as a per-second evidence.Sample (the fleet's latency
// p95, error rate, pool utilization and wait p95, and every criterion's
// state) for sustained_monitoring.json.
package monitor
