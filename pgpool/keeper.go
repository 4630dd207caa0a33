package pgpool

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/poolpilot/poolpilot"
)

// sweepInterval is how often the keeper looks at idle connections: the
// health check period, but at least twice per idle timeout so that the
// timeout is honoured within a factor of 1.5.
func sweepInterval(c poolpilot.PoolConfig) time.Duration {
	return max(min(c.HealthCheckPeriod, c.IdleTimeout/2), 50*time.Millisecond)
}

// keeper reaps idle and expired connections, trims the pool above max and
// dials up to min, every sweep interval and whenever woken (Resize).
func (p *Pool) keeper() {
	defer close(p.keeperDone)
	p.fillMin()
	t := time.NewTimer(sweepInterval(p.Config()))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		case <-p.keeperWake:
		}
		p.sweep()
		p.fillMin()
		t.Reset(sweepInterval(p.Config()))
	}
}

func (p *Pool) wakeKeeper() {
	select {
	case p.keeperWake <- struct{}{}:
	default:
	}
}

// sweep inspects the idle connections. While it holds them (microseconds)
// it takes every free gate permit, so new callers queue instead of acquiring,
// and it refuses dials (errSweeping), so a caller already past the gate
// waits for the idle connections instead of growing the pool beyond max.
func (p *Pool) sweep() {
	held := 0
	for p.gate.tryAcquire() {
		held++
	}
	p.sweeping.Store(true)
	defer func() {
		p.sweeping.Store(false)
		for range held {
			p.gate.release()
		}
	}()
	no := p.sweepNo.Add(1)
	nowNs := p.baseUnix + p.mono()
	idleNs := p.idleNs.Load()
	for _, c := range p.inner.AcquireAllIdle(context.Background()) {
		m := metaOf(c.Conn())
		if m.idleSweep == 0 || m.idleSweep != no-1 { // first sighting of this idle spell
			m.idleSince = nowNs
		}
		m.idleSweep = no
		switch {
		case p.live.Load() > p.gate.limit.Load():
			p.retire(c, reasonResize)
		case p.lifetime > 0 && nowNs-m.created > p.lifetime:
			p.retire(c, reasonLifetime)
		case nowNs-m.idleSince >= idleNs && p.live.Load() > p.minConns.Load():
			p.retire(c, reasonIdle)
		default:
			c.Release()
		}
	}
}

// fillMin dials connections until the pool holds min (or max, whichever is
// lower). It takes gate permits for the connections it dials, so it never
// pushes the pool above max.
func (p *Pool) fillMin() {
	target := min(p.minConns.Load(), p.gate.limit.Load())
	if p.live.Load() >= target || p.closing.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ConnectTimeout+time.Second)
	defer cancel()
	go func() { // stop dialing when the pool closes
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	var got []*pgxpool.Conn
	for p.live.Load() < target && int64(len(got)) < target {
		if !p.gate.tryAcquire() {
			break
		}
		c, err := p.inner.Acquire(ctx)
		if err != nil {
			p.gate.release()
			p.countConnectError(err)
			p.log.Warn("pool: cannot open a connection to keep min", "dsn", p.dsn, "min", p.minConns.Load(), "err", p.scrub(err))
			break
		}
		metaOf(c.Conn()).fresh = false
		got = append(got, c)
	}
	for _, c := range got {
		c.Release()
		p.gate.release()
	}
}

// Resize changes max and min of the live pool, without a restart and
// without touching in-flight work. Growing admits waiting callers at once;
// shrinking lets every holder finish: a connection released while the pool
// holds more than max is closed (reason "resize"), idle surplus is closed
// at once. The values are validated like the environment (the error names
// the field) and the configuration then shows them with provenance
// "admin". Statistics carry over.
func (p *Pool) Resize(ctx context.Context, max, min int) error {
	if err := ValidateSize(max, min); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.closing.Load() {
		return ErrClosed
	}
	p.mu.Lock()
	old := p.cfg.PoolConfig
	p.cfg.Max, p.cfg.Min = max, min
	src := make(map[string]poolpilot.Provenance, len(p.cfg.Source))
	for k, v := range p.cfg.Source {
		src[k] = v
	}
	src[KeyMax], src[KeyMin] = poolpilot.FromAdmin, poolpilot.FromAdmin
	p.cfg.Source = src
	p.minConns.Store(int64(min))
	p.gate.setLimit(max)
	p.resizes.Add(1)
	if p.limits != nil {
		p.budget = judge(*p.limits, max, p.cfg.Pooler)
	}
	bud := p.budget
	p.mu.Unlock()

	p.log.Info("pool resized", "dsn", p.dsn, "old_max", old.Max, "old_min", old.Min, "max", max, "min", min)
	if bud != nil && !bud.OK {
		p.log.Warn("pool: connection budget exceeded", "dsn", p.dsn, "budget", bud.Message)
	}
	if max < old.Max {
		p.sweep()
	}
	p.wakeKeeper()
	return nil
}

// String describes the pool for logs.
func (p *Pool) String() string {
	c := p.Config()
	return fmt.Sprintf("pool %s max=%d min=%d", p.dsn, c.Max, c.Min)
}
