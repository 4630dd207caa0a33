// Package grafana holds no code: it is the home of poolpilot.json (the
// Grafana dashboard of the pool metrics and the recording rules of
// docs/prometheus/poolpilot.rules.yml) and of the test that runs every
// panel's query against a real Prometheus scraping real pools.
package grafana
