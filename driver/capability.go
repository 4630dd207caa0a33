package driver

import (
	"context"
	"time"

	"github.com/poolpilot/poolpilot/plan"
)

// A driver is a change.Driver (Name, Apply). What else the rest of
// poolpilot needs to know about it, it declares through the small optional
// interfaces below; callers ask with a type assertion and never look at
// the driver's name. A driver that does not implement one has nothing to
// say there. (The fifth, fleet facts for preflight, is
// factory.FleetFacter: its types are preflight's.)

// Waiter is a driver whose Apply waits for the change to settle (kube:
// the rollout) for up to WaitTimeout, on top of the plan's verify timeout.
// The controller's default rollback bound counts it per batch.
type Waiter interface {
	WaitTimeout() time.Duration
}

// EnvNeeder is a driver that reads environment variables for an instance
// (admin: its admin token); preflight's credentials_present check fails
// when one is unset.
type EnvNeeder interface {
	NeededEnv(inst plan.Instance) []string
}

// RestartLogger is a driver that says what restart_log.txt holds for it.
type RestartLogger interface {
	RestartLog() RestartLog
}

// RestartLog describes restart_log.txt, one of the seed's evidence files
// whatever the driver.
type RestartLog struct {
	// Header opens the file, once (also after a resume).
	Header string
	// Restarts: the driver restarts processes and its own log (what
	// deployment_log.txt gets) is written to restart_log.txt too.
	Restarts bool
	// LiveResizes: the driver resizes live and each apply is listed (time,
	// instance, from -> to, HTTP status).
	LiveResizes bool
}

// Describer is a driver that describes the exact change it would make on
// one instance, for run --dry-run: one line or more, without a newline.
type Describer interface {
	DescribeChange(ctx context.Context, inst plan.Instance, size plan.PoolSize) []string
}

// UnreachableError is a driver that was built but cannot reach what it
// drives (kube: the cluster). The factory returns the driver with it: the
// driver can still describe its change, not apply it.
type UnreachableError struct {
	Driver string // the plan's driver
	What   string // what cannot be reached: "cluster"
	Err    error
}

func (e *UnreachableError) Error() string { return "driver " + e.Driver + ": " + e.Err.Error() }

func (e *UnreachableError) Unwrap() error { return e.Err }
