// Package prom is the criteria source of PromQL: at each collection it runs
// every criterion's query as an instant query against a Prometheus server's
// HTTP API (/api/v1/query) and reports one sample per series, under the
// metric poolpilot.PromQLMetric(query). A timeout, an error, a partial
// answer (warnings), an empty result, a range vector, a string or a value
// that is not a finite number is a data gap.
package prom
