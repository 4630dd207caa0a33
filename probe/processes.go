package probe

import (
	"context"
	"fmt"

	"github.com/poolpilot/poolpilot/source/health"
)

// BackendCounter counts the client backends in pg_stat_activity whose
// application_name is app (pgserver.Facts.Backends).
type BackendCounter func(ctx context.Context, app string) (int, error)

// processCheck warns when the service holds more backends than one pool
// can: it runs several processes, each with its own pool, and a plan must
// declare instances[].processes for the connection budget to count them.
func processCheck(ctx context.Context, o Options, d health.Document) Check {
	c := Check{ID: "processes", Status: Skip}
	if o.Backends == nil {
		c.Detail = "not checked: give --dsn-env to compare the backends in pg_stat_activity with one pool's max"
		return c
	}
	app := o.AppName
	if app == "" {
		app = d.Service
	}
	if app == "" {
		c.Detail = "not checked: the document has no service name; give --application-name"
		return c
	}
	n, err := o.Backends(ctx, app)
	switch {
	case err != nil:
		c.Status, c.Detail = Warn, fmt.Sprintf("cannot count backends: %v", err)
	case n == 0:
		c.Status, c.Detail = Warn, fmt.Sprintf("no backend has application_name %q: does the service set it? poolpilot cannot count what its pool holds", app)
	case n > d.Pool.Max:
		c.Status = Warn
		c.Detail = fmt.Sprintf("%d backends with application_name %q, more than one pool can hold (max %d): the service runs about %d processes with a pool each; declare instances[].processes in the plan so that the connection budget counts processes × max",
			n, app, d.Pool.Max, (n+d.Pool.Max-1)/d.Pool.Max)
	default:
		c.Status, c.Detail = Pass, fmt.Sprintf("%d backends with application_name %q, within one pool's max %d", n, app, d.Pool.Max)
	}
	return c
}
