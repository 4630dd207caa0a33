// Package reliability holds the end-to-end reliability and security suite of
// issue 10: faults injected into real processes (a private PostgreSQL
// cluster restarted, backends terminated, max_connections exhausted,
// network faults through internal/faultproxy), bad input refused, admin
// surface attacks, secrets scanned for, and load on /healthz and /metrics
// while the pool is saturated. Every test is bounded in time and count and
// talks to loopback only. docs/reliability.md lists each scenario, its
// measured figure and the command that reruns it.
//
// The package has no non-test code besides this file.
package reliability
