package change

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// applyAll sets size on every instance, batch by batch. Each apply is
// journalled as an intent before the driver is called and confirmed after.
// The driver logs are written to the evidence once per batch (and when an
// apply fails), not after every apply: at 500 instances that is 20 writes
// of deployment_log.txt instead of 500.
func (c *Controller) applyAll(ctx context.Context, size plan.PoolSize) error {
	c.writeConfigDiff(size)
	insts := c.instances()
	batch := max(c.Plan.Rollout.BatchSize, 1)
	for i := 0; i < len(insts); i += batch {
		group := insts[i:min(i+batch, len(insts))]
		err := c.applyBatch(ctx, group, size)
		c.flushLogs()
		if err != nil {
			return err
		}
		// A batch must show the new config before the next one changes.
		if i+batch < len(insts) {
			if err := c.verifyAll(ctx, group, size); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyBatch applies size to each instance of a batch, stopping at the
// first failure.
func (c *Controller) applyBatch(ctx context.Context, group []plan.Instance, size plan.PoolSize) error {
	for _, in := range group {
		if err := c.applyOne(ctx, in, size); err != nil {
			return err
		}
	}
	return nil
}

func (c *Controller) applyOne(ctx context.Context, in plan.Instance, size plan.PoolSize) error {
	if _, err := c.Journal.Append(Record{Kind: "apply", Instance: in.Name, Max: size.Max, Min: size.Min}, c.Clock.Now()); err != nil {
		return err
	}
	c.progress("apply %s: max %d min %d (%s driver)", in.Name, size.Max, size.Min, c.Driver.Name())
	log := c.logFor()
	from := c.liveFrom(ctx, in)
	err := c.Driver.Apply(ctx, in, size, log)
	c.logResize(in, from, size, err)
	if err != nil {
		c.event(evidence.ApplyFailed{Instance: in.Name, Driver: c.Driver.Name(), ToMax: size.Max, ToMin: size.Min, Error: err.Error()})
		return err
	}
	if _, err := c.Journal.Append(Record{Kind: "applied", Instance: in.Name, Max: size.Max, Min: size.Min}, c.Clock.Now()); err != nil {
		return err
	}
	c.event(evidence.Apply{Instance: in.Name, Driver: c.Driver.Name(), ToMax: size.Max, ToMin: size.Min})
	return nil
}

// logFor returns the log the driver writes to: deployment_log.txt, and
// restart_log.txt too for a driver that restarts processes (restart, kube;
// admin's restart_log.txt lists its live resizes: logResize).
func (c *Controller) logFor() io.Writer {
	if c.restartLogKind().Restarts {
		return io.MultiWriter(&c.deployLog, &c.restartLog)
	}
	return &c.deployLog
}

func (c *Controller) flushLogs() {
	c.writeFile("deployment_log.txt", c.deployLog.Bytes())
	if c.restartLog.Len() > 0 {
		c.writeFile("restart_log.txt", c.restartLogFile())
	}
}

func (c *Controller) writeConfigDiff(t plan.PoolSize) {
	f := c.Plan.Change.From
	var b strings.Builder
	fmt.Fprintf(&b, "--- pool config before (plan %s)\n+++ pool config after\n", c.Plan.Name)
	fmt.Fprintf(&b, "-DB_POOL_MAX=%d\n+DB_POOL_MAX=%d\n", f.Max, t.Max)
	fmt.Fprintf(&b, "-DB_POOL_MIN=%d\n+DB_POOL_MIN=%d\n", f.Min, t.Min)
	fmt.Fprintf(&b, "\ninstances: %d, driver: %s, batch size: %d\n", len(c.Plan.Instances), c.Plan.Driver, c.Plan.Rollout.BatchSize)
	c.writeFile("config_diff.txt", []byte(b.String()))
}

func (c *Controller) wait(ctx context.Context, d time.Duration) error {
	if c.Wait != nil {
		return c.Wait(ctx, d)
	}
	return poolpilot.Sleep(ctx, d)
}

// ConfigSnapshot reads every instance's /healthz and compares its pool with
// want (pre_change_config.json, post_change_config.json).
func ConfigSnapshot(ctx context.Context, pr Prober, insts []plan.Instance, want plan.PoolSize, now time.Time) evidence.ConfigSnapshot {
	snap := evidence.ConfigSnapshot{Time: now.UTC(), Expected: evidence.PoolSetting{Max: want.Max, Min: want.Min}, Verified: true}
	for _, in := range insts {
		ic := evidence.InstanceConfig{Name: in.Name, URL: in.HealthURL}
		h, err := pr.Health(ctx, in)
		if err != nil {
			ic.Error = err.Error()
		} else {
			p := h.Pool
			ic.Pool = evidence.PoolSetting{Max: p.Max, Min: p.Min, IdleTimeoutMS: p.IdleTimeoutMS, ConnectionTimeoutMS: p.ConnectionTimeoutMS}
			ic.Source = p.Source
			total := p.Total
			ic.PoolTotal = &total
			ic.Matches = p.Max == want.Max && p.Min == want.Min
		}
		snap.Verified = snap.Verified && ic.Matches
		snap.Instances = append(snap.Instances, ic)
	}
	return snap
}

// SeedLogs preloads the driver logs (deployment_log.txt, restart_log.txt)
// with what an earlier process of the same run wrote, before a resume.
func (c *Controller) SeedLogs(deploy, restart []byte) {
	c.deployLog.Write(deploy)
	c.restartLog.Write(restart)
}

// rollback restores change.from on every instance the run touched, and
// verifies it. It runs to completion even when ctx is cancelled.
func (c *Controller) rollback(ctx context.Context, rp Replay) error {
	from := c.Plan.Change.From
	var touched []plan.Instance
	for _, in := range c.instances() {
		if rp.Touched[in.Name] {
			touched = append(touched, in)
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.rollbackTimeout(len(touched)))
	defer cancel()
	c.event(evidence.Rollback{Reason: rp.Reason, Automatic: !strings.Contains(rp.Reason, "manual rollback"),
		Instances: len(touched), ToMax: from.Max, ToMin: from.Min})
	var errs []string
	batch := max(c.Plan.Rollout.BatchSize, 1)
	for i := 0; i < len(touched); i += batch {
		errs = append(errs, c.rollbackBatch(rctx, touched[i:min(i+batch, len(touched))], from)...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// reportsSize reports whether in's /healthz shows size now.
func (c *Controller) reportsSize(ctx context.Context, in plan.Instance, size plan.PoolSize) bool {
	h, err := c.Prober.Health(ctx, in)
	return err == nil && h.Pool.Max == size.Max && h.Pool.Min == size.Min
}

// rollbackTimeout is RollbackTimeout, or by default 10 minutes — more
// when the batches' own bounds add up to more: per batch the verify
// timeout, plus the driver's own wait (driver.Waiter; kube: the rollout
// timeout).
func (c *Controller) rollbackTimeout(touched int) time.Duration {
	if c.RollbackTimeout > 0 {
		return c.RollbackTimeout
	}
	per := c.Plan.Rollout.VerifyTimeout.D()
	if w, ok := c.Driver.(driver.Waiter); ok {
		per += w.WaitTimeout()
	}
	batch := max(c.Plan.Rollout.BatchSize, 1)
	batches := (touched + batch - 1) / batch
	return max(10*time.Minute, time.Duration(batches)*per)
}

// rollbackBatch restores from on a batch of instances and verifies the
// ones whose apply succeeded before the next batch restarts. A failure is
// returned, not fatal: the other instances are still put back.
func (c *Controller) rollbackBatch(ctx context.Context, group []plan.Instance, from plan.PoolSize) []string {
	var errs []string
	var applied []plan.Instance
	for _, in := range group {
		if err := c.applyOne(ctx, in, from); err != nil {
			// The driver could not reach it (its forward apply may have
			// failed the same way). If the instance itself reports from,
			// it is where the rollback wants it: nothing was lost.
			if c.reportsSize(ctx, in, from) {
				c.event(evidence.RollbackNotNeeded{Instance: in.Name, Max: from.Max, Min: from.Min, DriverError: err.Error()})
				continue
			}
			errs = append(errs, err.Error())
			continue
		}
		applied = append(applied, in)
	}
	c.flushLogs()
	if len(applied) > 0 {
		if err := c.verifyAll(ctx, applied, from); err != nil {
			errs = append(errs, "verify rollback: "+err.Error())
		}
	}
	return errs
}
