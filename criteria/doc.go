// Package criteria evaluates success criteria and rollback triggers over
// time series of samples, with Prometheus "for:" semantics: a criterion
// fires only when it breached at every sample for its whole window; a data
// gap makes it inconclusive and resets a pending breach.
//
// The package does no I/O. Sources (package source/...) collect samples and
// the caller pushes them with Engine.Observe; a loop calls Engine.Evaluate
// every interval; the engine's clock is injected so that a five-minute
// window is tested in milliseconds. The expression grammar, the metric
// vocabulary, the state machine and the seed's default set are described in
// docs/criteria.md.
package criteria
