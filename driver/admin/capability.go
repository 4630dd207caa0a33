package admin

import (
	"context"
	"fmt"

	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/plan"
)

// restartLogHeader opens restart_log.txt: nothing is restarted.
const restartLogHeader = "No restart was needed: driver admin resizes each pool live through PUT /admin/pool;\n" +
	"no process was restarted.\n\nLive resizes (time, instance, from -> to, HTTP status):\n"

// NeededEnv is the instance's admin token variable (driver.EnvNeeder).
func (d *Driver) NeededEnv(inst plan.Instance) []string { return []string{inst.AdminTokenEnv} }

// RestartLog: a statement that no restart was needed and the live resizes
// (driver.RestartLogger).
func (d *Driver) RestartLog() driver.RestartLog {
	return driver.RestartLog{Header: restartLogHeader, LiveResizes: true}
}

// DescribeChange is the PUT the driver sends (driver.Describer).
func (d *Driver) DescribeChange(_ context.Context, inst plan.Instance, size plan.PoolSize) []string {
	ep, err := AdminEndpoint(inst)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", inst.Name, err)}
	}
	return []string{fmt.Sprintf(`%s: PUT %s  Authorization: Bearer $%s  {"max":%d,"min":%d}`, inst.Name, ep, inst.AdminTokenEnv, size.Max, size.Min)}
}
