// Package proc holds the platform-specific parts of starting the test
// harnesses' child processes (PostgreSQL, PgBouncer, Prometheus): running
// them as another user, in their own process group, killed with their
// parent, and killing a whole group.
//
// On Linux all of it applies; other unix systems have no parent-death
// signal; on Windows a child runs as the current user and KillGroup kills
// the process itself. The harnesses are meant for Linux (CI and the demo);
// this package only lets everything build elsewhere.
package proc
