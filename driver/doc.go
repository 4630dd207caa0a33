// Package driver groups poolpilot's apply/rollback drivers: admin (live
// resize through PUT /admin/pool), restart (rewrite an env file and run a
// restart command) and kube (patch a Deployment's env and wait for the
// rollout). Each implements change.Driver; driver/factory builds the one a
// plan names (factory.New), the only code outside the drivers and plan
// validation that knows them by name.
//
// What else a driver needs or offers it declares through small optional
// interfaces, which callers discover with a type assertion: Waiter (how
// long Apply waits to settle: kube's rollout), EnvNeeder (the variables
// it reads: admin's token), RestartLogger (what restart_log.txt holds),
// Describer (the exact change, for run --dry-run) and
// factory.FleetFacter (the fleet facts preflight reads from kube).
//
// This package also holds what they share: Retry, the one retry policy
// of every driver call in apply and rollback. Transient failures (refused or reset
// connections, timeouts, HTTP 5xx, 409) are retried with exponential
// backoff and jitter within the phase's timeout, each retry written to the
// deployment log; other failures (400, 401, 403, 422, bad configuration)
// are returned at once.
package driver
