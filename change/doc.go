// Package change is poolpilot's change controller: a plan runs through
// explicit states (preflight → awaiting-approval → approved → baseline →
// applying → verifying → load-test → soak → succeeded, or rolling-back →
// rolled-back / rollback-failed), each transition written to a durable
// journal before the side effect it announces, so that a run killed at any
// point can be resumed.
package change
