// Package probe checks a running service against poolpilot's pool
// contract (package contract): it fetches the health document several
// times while sending a little load of its own, validates every document
// against the schema, checks that the figures move as they should
// (acquires grow, 0 ≤ utilization ≤ 1, min ≤ total ≤ max), optionally
// resizes the pool up and back through PUT /admin/pool and checks that the
// document follows, and tells, per criterion of the default plan, whether
// the service can feed it (health.Feeds, as preflight's criteria_fed).
//
// The load is small and bounded: Options.Load concurrent GETs per poll to
// the service's origin and to its health URL, each with the poll timeout.
package probe
