package pgpool

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Ping checks that the database answers, without queueing behind a
// saturated pool: it uses a free slot of the pool when there is one, and
// otherwise a dedicated monitor connection (application_name
// "<app>-monitor", dialed on first need, one at most). ctx bounds it.
func (p *Pool) Ping(ctx context.Context) error {
	if p.closing.Load() {
		return ErrClosed
	}
	if p.gate.tryAcquire() {
		c, err := p.inner.Acquire(ctx)
		if errors.Is(err, errSweeping) && p.awaitSweep(ctx) {
			c, err = p.inner.Acquire(ctx)
		}
		if err != nil {
			p.gate.release()
			p.countConnectError(err)
			return fmt.Errorf("ping %s: %w", p.dsn, p.redact(err))
		}
		m := metaOf(c.Conn())
		m.fresh = false
		err = c.Conn().Ping(ctx)
		p.release(c, m)
		if err != nil {
			return fmt.Errorf("ping %s: %w", p.dsn, p.redact(err))
		}
		return nil
	}
	if err := p.mon.ping(ctx); err != nil {
		return fmt.Errorf("ping %s (monitor connection): %w", p.dsn, p.redact(err))
	}
	return nil
}

// monitor is the pool's spare connection for health checks at full
// utilisation. A one-slot channel guards it, so that waiting for it obeys ctx.
type monitor struct {
	// before is the caller's BeforeConnect (a fresh IAM token per dial).
	before func(context.Context, *pgx.ConnConfig) error
	cfg    *pgx.ConnConfig
	slot   chan struct{}
	conn   *pgx.Conn
}

func (m *monitor) init(cc *pgx.ConnConfig, app string) {
	m.cfg = cc.Copy()
	m.cfg.RuntimeParams["application_name"] = app + "-monitor"
	m.slot = make(chan struct{}, 1)
}

func (m *monitor) ping(ctx context.Context) error {
	select {
	case m.slot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-m.slot }()
	if m.conn == nil || m.conn.IsClosed() {
		cfg := m.cfg
		if m.before != nil {
			cfg = m.cfg.Copy()
			if err := m.before(ctx, cfg); err != nil {
				return err
			}
		}
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return err
		}
		m.conn = c
	}
	if err := m.conn.Ping(ctx); err != nil {
		m.conn.Close(context.Background())
		m.conn = nil
		return err
	}
	return nil
}

func (m *monitor) close() {
	if m.slot == nil {
		return
	}
	m.slot <- struct{}{}
	defer func() { <-m.slot }()
	if m.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*1e9)
		defer cancel()
		m.conn.Close(ctx)
		m.conn = nil
	}
}
