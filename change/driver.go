package change

import (
	"context"
	"io"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
)

// Driver applies a pool size to one instance. Apply must be idempotent: the
// controller calls it again after a crash when it cannot know whether the
// earlier call took effect. log receives what the driver did, for the
// evidence (deployment_log.txt, restart_log.txt); it never receives secrets.
//
// What else a driver needs or offers (a wait after Apply, the variables it
// reads, what restart_log.txt holds, its --dry-run text) it declares
// through package driver's optional interfaces; nothing here looks at
// Name but the log lines and events that show it.
type Driver interface {
	Name() string
	Apply(ctx context.Context, inst plan.Instance, size plan.PoolSize, log io.Writer) error
}

// Prober reads an instance's /healthz.
type Prober interface {
	Health(ctx context.Context, inst plan.Instance) (poolpilot.Health, error)
}
