// Package httpapi is the HTTP surface that any service using a poolpilot pool
// mounts: GET /healthz (the pool's configuration and live statistics, the
// service's windowed request statistics, the server connection budget),
// GET /metrics (Prometheus text from an injected registry, from a gather at
// most Options.MetricsCacheTTL old: see metricsCache) and PUT /admin/pool (a live resize behind a bearer token).
//
// It also provides the middleware that measures the service's own requests
// (count, 5xx errors including recovered panics, latency percentiles over a
// sliding window), a bearer-token guard for a service's own admin routes,
// and CheckListenAddr, which warns loudly about non-loopback binds.
//
// The package codes against the root interface poolpilot.Pool; it is the
// only package besides the command wiring that imports client_golang.
// Passwords never leave it: every error it shows or logs goes through Redact.
package httpapi
