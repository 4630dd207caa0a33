// Package assemble builds what a run or a watch needs from a plan and the
// environment.
//
// Sources is the one place that turns a plan into criteria sources: every
// instance's /healthz, ledgerd's integrity probe, PostgreSQL statistics and
// the database host's CPU, and Prometheus for promql criteria (the plan's
// prometheus section: URL, credentials from environment variables, CA
// file). `poolpilot run` and `poolpilot watch` start their monitors on it;
// preflight's criteria_sources check calls it too, without starting a
// poller, to refuse a plan with a criterion that no source can feed.
//
//	set, err := assemble.Sources(ctx, p, getenv, assemble.Options{Interval: time.Second})
//	if err != nil { … }            // bad input: exit 2
//	defer set.Close()
//	kept, unfed, err := set.Split(p.Criteria)
package assemble
