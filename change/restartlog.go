package change

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot/plan"
)

// restart_log.txt is one of the seed's evidence files whatever the driver:
// the restart driver's restart commands and their output; for kube, the
// patches and rollouts by which Kubernetes restarted the pods; for admin,
// a statement that no restart was needed and the live resizes.
const (
	restartLogAdmin = "No restart was needed: driver admin resizes each pool live through PUT /admin/pool;\n" +
		"no process was restarted.\n\nLive resizes (time, instance, from -> to, HTTP status):\n"
	restartLogKube = "No restart command was run: driver kube patches each Deployment's env and\n" +
		"Kubernetes restarts its pods in a rolling update, waited for below.\n\n"
)

func restartLogHeader(driver string) string {
	switch driver {
	case plan.DriverAdmin:
		return restartLogAdmin
	case plan.DriverKube:
		return restartLogKube
	}
	return ""
}

// restartLogFile is restart_log.txt: the driver's header (once, also after
// a resume that seeded the log) and the lines.
func (c *Controller) restartLogFile() []byte {
	head := restartLogHeader(c.Driver.Name())
	b := c.restartLog.Bytes()
	if head == "" || bytes.HasPrefix(b, []byte(head)) {
		return b
	}
	return append([]byte(head), b...)
}

// liveFrom reads what an instance reports before a live resize, for
// restart_log.txt ("unknown" when it cannot be read).
func (c *Controller) liveFrom(ctx context.Context, in plan.Instance) string {
	if c.Driver.Name() != plan.DriverAdmin || c.Prober == nil {
		return ""
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	h, err := c.Prober.Health(pctx, in)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("max %d min %d", h.Pool.Max, h.Pool.Min)
}

// logResize adds a live resize to restart_log.txt (driver admin only).
func (c *Controller) logResize(in plan.Instance, from string, size plan.PoolSize, err error) {
	if c.Driver.Name() != plan.DriverAdmin {
		return
	}
	status := "HTTP 200"
	var se interface{ HTTPStatus() int }
	switch {
	case errors.As(err, &se):
		status = fmt.Sprintf("HTTP %d: failed", se.HTTPStatus())
	case err != nil:
		status = "no HTTP answer: failed"
	}
	fmt.Fprintf(&c.restartLog, "%s  %s  %s -> max %d min %d  %s\n", c.Clock.Now().UTC().Format(time.RFC3339),
		in.Name, from, size.Max, size.Min, status)
}
