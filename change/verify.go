package change

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// BackendCounter counts the client backends of the plan's database in
// pg_stat_activity, by application_name.
type BackendCounter func(ctx context.Context) (map[string]int, error)

// verifyAll waits, up to the plan's verify timeout, until every instance's
// /healthz shows size and its pool holds at least size.Min connections
// (pool.total). Then, with a BackendCounter, the backends the database
// sees per application name are checked against the pools (checkBackends).
func (c *Controller) verifyAll(ctx context.Context, insts []plan.Instance, size plan.PoolSize) error {
	deadline := c.Clock.Now().Add(c.Plan.Rollout.VerifyTimeout.D())
	pending := append([]plan.Instance(nil), insts...)
	seen := map[string]poolpilot.Health{}
	var last string
	for {
		var still []plan.Instance
		for _, in := range pending {
			h, err := c.Prober.Health(ctx, in)
			if why := verifyProblem(in, h, err, size); why != "" {
				last = why
				still = append(still, in)
				continue
			}
			seen[in.Name] = h
			c.event(evidence.VerifyCheck{Instance: in.Name, Max: h.Pool.Max, Min: h.Pool.Min, PoolTotal: h.Pool.Total, OK: true})
		}
		if pending = still; len(pending) == 0 {
			break
		}
		if !c.Clock.Now().Before(deadline) {
			return fmt.Errorf("after %s: %s", c.Plan.Rollout.VerifyTimeout, last)
		}
		if err := c.wait(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
	return c.verifyBackends(ctx, insts, seen, size, deadline)
}

// verifyProblem says why an instance does not (yet) pass verify: it cannot
// be read, it reports another size, or its pool holds fewer connections
// than min.
func verifyProblem(in plan.Instance, h poolpilot.Health, err error, size plan.PoolSize) string {
	switch {
	case err != nil:
		return fmt.Sprintf("%s: %v", in.Name, err)
	case h.Pool.Max != size.Max || h.Pool.Min != size.Min:
		return fmt.Sprintf("%s reports max %d min %d, want %d/%d", in.Name, h.Pool.Max, h.Pool.Min, size.Max, size.Min)
	case h.Pool.Total < size.Min:
		return fmt.Sprintf("%s reports max %d min %d but its pool holds %d connection(s) (pool.total), fewer than min %d",
			in.Name, h.Pool.Max, h.Pool.Min, h.Pool.Total, size.Min)
	}
	return ""
}

// BackendCheck is what verify found in pg_stat_activity for the instances
// that name themselves App (/healthz "service", which pgpool also sets as
// application_name).
type BackendCheck struct {
	App       string   `json:"application_name"`
	Instances []string `json:"instances"`
	Backends  int      `json:"backends"`
	PoolTotal int      `json:"pool_total"`
	Min       int      `json:"min"`
	OK        bool     `json:"ok"`
	Note      string   `json:"note,omitempty"`
}

// verifyBackends polls the backend counts until every application name
// holds at least its instances' min, or the deadline passes. A count that
// cannot be read, or an application name no backend carries (the service
// may not set it), is recorded and is not a failure: pool.total was
// checked. A count that differs from pool.total beyond a tolerance is a
// warning.
func (c *Controller) verifyBackends(ctx context.Context, insts []plan.Instance, seen map[string]poolpilot.Health, size plan.PoolSize, deadline time.Time) error {
	if c.Backends == nil || len(insts) != len(c.instances()) {
		// Between batches the database also sees the instances not in
		// this batch: the counts are compared for the whole plan only.
		return nil
	}
	for {
		counts, err := c.Backends(ctx)
		if err != nil {
			c.event(evidence.VerifyBackends{OK: false, Error: err.Error(), Note: "backends not read: pool.total alone was checked"})
			c.progress("warning: verify: backends in pg_stat_activity not read: %v", err)
			return nil
		}
		checks := backendChecks(insts, seen, counts, size)
		var failed []string
		for _, bc := range checks {
			if !bc.OK {
				failed = append(failed, bc.Note)
			}
		}
		if len(failed) == 0 || !c.Clock.Now().Before(deadline) {
			c.recordBackends(checks)
			if len(failed) > 0 {
				return fmt.Errorf("after %s: %s", c.Plan.Rollout.VerifyTimeout, strings.Join(failed, "; "))
			}
			return nil
		}
		if err := c.wait(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
}

func (c *Controller) recordBackends(checks []BackendCheck) {
	c.evMu.Lock()
	c.backends = checks
	c.evMu.Unlock()
	for _, bc := range checks {
		c.event(evidence.VerifyBackends{AppName: bc.App, Instances: bc.Instances,
			Backends: &bc.Backends, PoolTotal: &bc.PoolTotal, Min: &bc.Min, OK: bc.OK, Note: bc.Note})
		if bc.OK && bc.Note != "" {
			c.progress("warning: verify: %s", bc.Note)
		}
	}
}

// backendChecks groups the instances by the application name they report
// and compares each group's backends with its pools. Each instance counts
// its processes (instances[].processes) times.
func backendChecks(insts []plan.Instance, seen map[string]poolpilot.Health, counts map[string]int, size plan.PoolSize) []BackendCheck {
	byApp := map[string]*BackendCheck{}
	var apps []string
	for _, in := range insts {
		h, ok := seen[in.Name]
		if !ok || h.Service == "" || h.Pool.Pooler != "" {
			continue // no name to look for, or the backends are a pooler's
		}
		bc := byApp[h.Service]
		if bc == nil {
			bc = &BackendCheck{App: h.Service, Backends: counts[h.Service]}
			byApp[h.Service] = bc
			apps = append(apps, h.Service)
		}
		procs := max(in.Processes, 1)
		bc.Instances = append(bc.Instances, in.Name)
		bc.PoolTotal += h.Pool.Total * procs
		bc.Min += size.Min * procs
	}
	slices.Sort(apps)
	out := make([]BackendCheck, 0, len(apps))
	for _, app := range apps {
		bc := *byApp[app]
		bc.OK = true
		tol := max(2, bc.PoolTotal/10)
		switch {
		case bc.Backends == 0:
			bc.Note = fmt.Sprintf("no backend in pg_stat_activity carries application_name %q (%s): not attributable, pool.total alone was checked",
				app, strings.Join(bc.Instances, ", "))
		case bc.Backends < bc.Min:
			bc.OK = false
			bc.Note = fmt.Sprintf("application_name %q (%s): %d backend(s) in pg_stat_activity, fewer than min %d (the pools report %d)",
				app, strings.Join(bc.Instances, ", "), bc.Backends, bc.Min, bc.PoolTotal)
		case bc.Backends > bc.PoolTotal+tol || bc.Backends < bc.PoolTotal-tol:
			bc.Note = fmt.Sprintf("application_name %q (%s): %d backend(s) in pg_stat_activity, but the pools report %d (pool.total)",
				app, strings.Join(bc.Instances, ", "), bc.Backends, bc.PoolTotal)
		}
		out = append(out, bc)
	}
	return out
}

// writePostChangeConfig records what every instance reports after the
// change, with the backend checks of the verify that preceded it.
func (c *Controller) writePostChangeConfig(ctx context.Context) {
	snap := ConfigSnapshot(ctx, c.Prober, c.instances(), c.target(), c.Clock.Now())
	c.evMu.Lock()
	for _, bc := range c.backends {
		snap.Backends = append(snap.Backends, evidence.BackendCount{ApplicationName: bc.App, Instances: bc.Instances,
			Backends: bc.Backends, PoolTotal: bc.PoolTotal, Min: bc.Min, OK: bc.OK, Note: bc.Note})
	}
	c.evMu.Unlock()
	b, err := evidence.MarshalFile(snap)
	if err == nil {
		c.writeFile(evidence.FilePostChangeConfig, b)
	}
}
