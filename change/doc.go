// Package change is poolpilot's change controller: a plan runs through
// explicit states (preflight → awaiting-approval → approved → baseline →
// applying → verifying → load-test → soak → succeeded, or rolling-back →
// rolled-back / rollback-failed), each transition written to a durable
// journal before the side effect it announces, so that a run killed at any
// point can be resumed. A staircase change (change.steps) climbs in the
// state stepping, each step journalled (steps.go), and settles at the best
// step seen when a step is worse (DecideStep, settle.go): state settled.
package change
