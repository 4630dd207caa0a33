// Package loadgen is poolpilot's load generator: an engine that the change
// controller drives and that `poolpilot load` wraps.
//
// The open model (Config.Schedule: a constant rate or piecewise-linear
// ramps) starts each request at its intended time whatever the target's
// latency, and measures latency from that intended time, so a stall in the
// target shows in the percentiles instead of hiding in a backlog
// (no coordinated omission). The scheduling lag (actual start − intended
// start) is reported on its own. In-flight requests are capped
// (Config.MaxInflight); a request that cannot start within DropAfter of its
// intended time is dropped and counted, one that starts more than LateAfter
// after it is counted late. The closed model (Config.Concurrency) keeps N
// requests in flight back to back, for sizing sweeps.
//
// Measurements go into HDR histograms (microseconds, 3 significant digits),
// one set per shard of workers, merged and rotated every second into a
// per-second series; memory does not grow with the run's length beyond one
// small struct per second.
//
// Targets implement Target; this package provides an HTTP target
// (NewHTTPTarget) and the ledger workload (NewLedgerWorkload) that checks
// what it reads. Thresholds (ParseThreshold) turn a Report into a verdict.
// See docs/loadgen.md.
package loadgen
