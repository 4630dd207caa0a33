// Package dashboard serves the live web page of a pool change and the
// pages of finished runs.
//
// A Hub holds runs. A live run feeds it through an Observer (what
// runner.Options.Observer calls: the run's start, each state, each
// evaluation of the criteria, its end); the Hub itself tails the run's
// audit log for the event timeline and reads every instance's /healthz once
// an evaluation interval for the per-instance pool table and the charts'
// fleet samples (the same aggregation as the monitor: the worst instance).
// Finished runs are read from evidence folders (<dir>/<plan>/<run-id>/) with
// the report package.
//
// Routes (see docs/dashboard.md):
//
//	GET  /                              list of runs
//	GET  /runs/{id}                     a run's page
//	GET  /runs/{id}/report              the report, rendered on demand
//	GET  /runs/{id}/files/{name}        an evidence file, read-only
//	GET  /api/runs                      the list as JSON
//	GET  /api/runs/{id}                 a run's snapshot as JSON
//	GET  /api/runs/{id}/events          server-sent events (Last-Event-ID resumes)
//	POST /api/runs/{id}/rollback        manual rollback (bearer token, reason)
//	GET  /assets/{name}                 embedded CSS and JavaScript
//	GET  /metrics                       live runs' state for Prometheus (bearer token)
//
// The page is self-contained (embedded assets, server-rendered SVG charts,
// no external request), read-only unless a token is configured, and every
// response passes through the Hub's redactor.
package dashboard
