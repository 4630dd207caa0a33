// Package poolpilot holds the domain types shared by every part of poolpilot:
// the pool configuration and its provenance, the pool statistics snapshot, the
// /healthz document, the connection budget and the clock. It imports only the
// standard library; the packages that talk to the outside world (pgpool,
// httpapi, loadgen, …) depend on it, never the other way round.
package poolpilot
