// Package prometheus holds no code: it tests docs/prometheus/poolpilot.rules.yml
// (recording rules and alerts for the pool metrics) and of the test that
// runs the real `promtool check rules` and `promtool test rules` on it.
package prometheus
