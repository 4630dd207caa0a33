package restart

import (
	"context"
	"fmt"
	"strings"

	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/plan"
)

// RestartLog: the restart commands and their output (driver.RestartLogger).
func (d *Driver) RestartLog() driver.RestartLog { return driver.RestartLog{Restarts: true} }

// DescribeChange is the env file edit and the restart command
// (driver.Describer).
func (d *Driver) DescribeChange(_ context.Context, inst plan.Instance, size plan.PoolSize) []string {
	return []string{
		fmt.Sprintf("%s: set in %s: DB_POOL_MAX=%d DB_POOL_MIN=%d", inst.Name, inst.EnvFile, size.Max, size.Min),
		fmt.Sprintf("%s: run %s; wait for %s to show the new pool", inst.Name, strings.Join(inst.RestartCommand, " "), inst.HealthURL),
	}
}
