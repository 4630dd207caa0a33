package change

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/plan"
)

// restartLogKind is what restart_log.txt holds for the driver
// (driver.RestartLogger): for restart, its commands and their output; for
// kube, the patches and rollouts by which Kubernetes restarted the pods;
// for admin, a statement that no restart was needed and the live resizes.
func (c *Controller) restartLogKind() driver.RestartLog {
	if l, ok := c.Driver.(driver.RestartLogger); ok {
		return l.RestartLog()
	}
	return driver.RestartLog{}
}

// restartLogFile is restart_log.txt: the driver's header (once, also after
// a resume that seeded the log) and the lines.
func (c *Controller) restartLogFile() []byte {
	head := c.restartLogKind().Header
	b := c.restartLog.Bytes()
	if head == "" || bytes.HasPrefix(b, []byte(head)) {
		return b
	}
	return append([]byte(head), b...)
}

// liveFrom reads what an instance reports before a live resize, for
// restart_log.txt ("unknown" when it cannot be read).
func (c *Controller) liveFrom(ctx context.Context, in plan.Instance) string {
	if !c.restartLogKind().LiveResizes || c.Prober == nil {
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

// logResize adds a live resize to restart_log.txt (a driver that resizes
// live: admin).
func (c *Controller) logResize(in plan.Instance, from string, size plan.PoolSize, err error) {
	if !c.restartLogKind().LiveResizes {
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
