// Package runner wires the change controller's phases to the real parts:
// preflight, approvals and the change window, a baseline from the sources,
// the load test with the load generator, the soak with the criteria engine,
// the evidence folder with its report, notifications, the run lock and
// manual rollback requests, and resume from the journal. `poolpilot run`,
// `poolpilot rollback` and `poolpilot demo` are built on it.
package runner
