// Package grafana holds no code: it tests docs/grafana/poolpilot.json (the
// Grafana dashboard of the pool metrics and the recording rules of
// docs/prometheus/poolpilot.rules.yml) and of the test that runs every
// panel's query against a real Prometheus scraping real pools.
package grafana
