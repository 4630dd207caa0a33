// Package health is the criteria source that polls the /healthz document
// (poolpilot.Health) of each service instance. A failed poll, a non-JSON
// body or a document that does not look like a health document is a data
// gap for every metric, except reachable (0) and downtime_s (which keeps
// growing): the service being down is data, not the absence of it.
//
// Counters of the pool (opened, closed, acquires, acquire timeouts, server
// refusals) become per-second rates between two successive polls, and the
// thrashing metric is computed from them (see Thrash).
package health
