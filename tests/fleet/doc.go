// Package fleet holds no code: it is the home of the fleet integration
// tests — several ledgerd instances scraped by a real Prometheus and judged
// by the criteria engine through PromQL, and (once `poolpilot run` exists)
// a change run through a real PgBouncer. See docs/fleets.md.
package fleet
