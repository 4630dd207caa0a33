package pgpool

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"
)

// Acquire takes a connection from the pool; the caller must Release it.
// It waits at most DB_POOL_CONNECTION_TIMEOUT (or until ctx is done) for a
// free slot and a connection; the wait is recorded in the statistics.
func (p *Pool) Acquire(ctx context.Context) (*Conn, error) {
	pc, m, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	c := take(&m.slabs.conns)
	c.m, c.pc = m, pc
	return c, nil
}

// acquire is the instrumented path: gate (queue), then pgxpool (pick an idle
// connection or dial one). Only the queued path arms a timer; a dial is
// bounded by the connection timeout through pgconn's ConnectTimeout.
func (p *Pool) acquire(ctx context.Context) (*pgxpool.Conn, *connMeta, error) {
	start := p.mono() // one clock read; time.Now would take two
	var queued int64
	if !p.gate.tryAcquire() {
		if p.closing.Load() {
			return nil, nil, ErrClosed
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.cfg.ConnectTimeout)
		defer cancel()
		if err := p.gate.acquire(ctx); err != nil {
			return nil, nil, p.acquireFailed(ctx, start, err)
		}
		queued = max(p.mono()-start, 1)
	}
	for {
		pc, err := p.inner.Acquire(ctx)
		if errors.Is(err, errSweeping) && p.awaitSweep(ctx) {
			continue
		}
		if err != nil {
			p.gate.release()
			return nil, nil, p.acquireFailed(ctx, start, err)
		}
		m := metaOf(pc.Conn())
		if p.lifetime > 0 && p.baseUnix+start-m.created > p.lifetime {
			p.retire(pc, reasonLifetime)
			continue
		}
		end := p.mono()
		s := p.win.at(p.stampMono(end))
		s.wait[m.stripe].record(end - start)
		if queued > 0 {
			s.queue.record(queued)
		}
		if m.fresh {
			m.fresh = false
			s.dialedAcquires.Add(1)
		}
		if m.idleSweep != 0 { // read-mostly: written only when the keeper marked it
			m.idleSweep = 0
		}
		return pc, m, nil
	}
}

// acquireFailed classifies and counts a failed acquire and returns an error
// that says what to do; it never holds the password.
func (p *Pool) acquireFailed(ctx context.Context, start int64, err error) error {
	if p.closing.Load() || errors.Is(err, puddle.ErrClosedPool) {
		return ErrClosed
	}
	waited := time.Duration(p.mono() - start).Round(time.Millisecond)
	p.countConnectError(err)
	switch {
	case isRefusal(err):
		return fmt.Errorf("acquire connection: server refused a new connection (SQLSTATE 53300 too many clients) after %s: lower DB_POOL_MAX or raise max_connections: %w", waited, p.redact(err))
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		p.acquireTimeouts.Add(1)
		n, _ := p.gate.queued()
		return fmt.Errorf("acquire connection: timed out after %s (DB_POOL_CONNECTION_TIMEOUT %s): %d of max %d in use, %d waiting: %w",
			waited, p.cfg.ConnectTimeout, p.gate.inUse.Load(), p.gate.limit.Load(), n, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		p.acquireCancels.Add(1)
		return fmt.Errorf("acquire connection: canceled after %s: %w", waited, context.Canceled)
	}
	p.acquireErrors.Add(1)
	return fmt.Errorf("acquire connection from %s: %w", p.dsn, p.redact(err))
}

func isRefusal(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "53300"
}

func (p *Pool) countConnectError(err error) {
	if isRefusal(err) {
		p.refusals.Add(1)
	}
}

// release returns a connection: it is closed instead when the pool holds
// more connections than its max (after a shrink). Lifetime is enforced when
// a connection is handed out and by the keeper's sweep.
func (p *Pool) release(pc *pgxpool.Conn, m *connMeta) {
	c := pc.Conn()
	switch {
	case c.IsClosed() || c.PgConn().IsBusy() || c.PgConn().TxStatus() != 'I':
		// pgxpool would destroy it too, and then run its health check,
		// which briefly takes every idle connection out of circulation.
		p.retire(pc, reasonBroken)
	case p.live.Load() > p.gate.limit.Load():
		p.retire(pc, reasonResize)
	default:
		pc.Release()
	}
	p.gate.release()
}

// errSweeping refuses a dial while the keeper holds the idle connections:
// the caller retries and gets one of them instead of growing the pool.
var errSweeping = errors.New("pgpool: keeper sweep in progress")

// awaitSweep waits (microseconds) for the keeper's sweep to end; false when
// ctx ends first.
func (p *Pool) awaitSweep(ctx context.Context) bool {
	for p.sweeping.Load() {
		if ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Microsecond)
	}
	return true
}

// retire takes a connection out of the pool and closes it in the
// background, counting the reason. Unlike a pgxpool destroy it does not
// trigger pgxpool's health check (which would briefly hide idle conns).
func (p *Pool) retire(pc *pgxpool.Conn, reason closeReason) {
	c := pc.Hijack()
	p.live.Add(-1)
	p.closed.add(reason)
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	}()
}

// Conn is a connection acquired from the pool, valid until Release. Each
// Acquire returns a new *Conn: after Release, Release is a no-op and every
// other method returns ErrReleased, whoever holds the connection since.
// Rows and Tx obtained from a Conn are pgx's own and valid only until the
// Conn is released. Like pgx.Conn, a Conn is for one goroutine at a time.
//
// Two words, so that the handle costs 16 bytes per Acquire (amortised: they
// come from a per-connection slab, see wrap.go).
type Conn struct {
	m  *connMeta     // m.p is the pool
	pc *pgxpool.Conn // nil once released
}

// Release returns the connection to the pool. Calling it again is harmless.
func (c *Conn) Release() {
	pc := c.pc
	if pc == nil {
		return
	}
	c.pc = nil
	c.m.p.release(pc, c.m)
}

// conn is the pgx connection while the handle holds it, nil after Release.
func (c *Conn) conn() *pgx.Conn {
	if c.pc == nil {
		return nil
	}
	return c.pc.Conn()
}

func (c *Conn) Exec(ctx context.Context, sql string, args ...any) (CommandTag, error) {
	cc := c.conn()
	if cc == nil {
		return CommandTag{}, ErrReleased
	}
	return cc.Exec(ctx, sql, args...)
}

func (c *Conn) Query(ctx context.Context, sql string, args ...any) (Rows, error) {
	cc := c.conn()
	if cc == nil {
		return errRows{ErrReleased}, ErrReleased
	}
	return cc.Query(ctx, sql, args...)
}

func (c *Conn) QueryRow(ctx context.Context, sql string, args ...any) Row {
	cc := c.conn()
	if cc == nil {
		return errRow{ErrReleased}
	}
	return cc.QueryRow(ctx, sql, args...)
}

func (c *Conn) Begin(ctx context.Context) (Tx, error) { return c.BeginTx(ctx, TxOptions{}) }

func (c *Conn) BeginTx(ctx context.Context, o TxOptions) (Tx, error) {
	cc := c.conn()
	if cc == nil {
		return nil, ErrReleased
	}
	return cc.BeginTx(ctx, o)
}

func (c *Conn) SendBatch(ctx context.Context, b *Batch) BatchResults {
	cc := c.conn()
	if cc == nil {
		return pgx.FailedBatchResults(b, ErrReleased)
	}
	return cc.SendBatch(ctx, b)
}

func (c *Conn) Ping(ctx context.Context) error {
	cc := c.conn()
	if cc == nil {
		return ErrReleased
	}
	return cc.Ping(ctx)
}

// Exec acquires a connection, runs sql and releases it.
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (CommandTag, error) {
	pc, m, err := p.acquire(ctx)
	if err != nil {
		return CommandTag{}, err
	}
	defer p.release(pc, m)
	return pc.Conn().Exec(ctx, sql, args...)
}

// Query acquires a connection for the rows; closing them (or reading them
// to the end) releases it.
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (Rows, error) {
	pc, m, err := p.acquire(ctx)
	if err != nil {
		return errRows{err}, err
	}
	rows, err := pc.Conn().Query(ctx, sql, args...)
	if err != nil {
		p.release(pc, m)
		return errRows{err}, err
	}
	r := take(&m.slabs.rows)
	r.r, r.pc, r.m = rows, pc, m
	return r, nil
}

// QueryRow acquires a connection for one row; Scan releases it.
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) Row {
	pc, m, err := p.acquire(ctx)
	if err != nil {
		return errRow{err}
	}
	r := take(&m.slabs.row)
	r.r, r.pc, r.m = pc.Conn().QueryRow(ctx, sql, args...), pc, m
	return r
}

// Begin starts a transaction on an acquired connection; Commit or Rollback
// releases it.
func (p *Pool) Begin(ctx context.Context) (Tx, error) { return p.BeginTx(ctx, TxOptions{}) }

// BeginTx is Begin with options.
func (p *Pool) BeginTx(ctx context.Context, o TxOptions) (Tx, error) {
	pc, m, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := pc.Conn().BeginTx(ctx, o)
	if err != nil {
		p.release(pc, m)
		return nil, err
	}
	t := take(&m.slabs.txs)
	t.Tx, t.pc, t.m = tx, pc, m
	return t, nil
}

// SendBatch acquires a connection for the batch; closing the results
// releases it, unless the batch begins a transaction (Batch.BeginTx): then
// Commit or Rollback of the results' Tx releases it.
func (p *Pool) SendBatch(ctx context.Context, b *Batch) BatchResults {
	pc, m, err := p.acquire(ctx)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	br := pc.Conn().SendBatch(ctx, b)
	pb := &poolBatch{BatchResults: br, pc: pc, m: m}
	if tx := br.Tx(); tx != nil {
		t := take(&m.slabs.txs)
		t.Tx, t.pc, t.m = tx, pc, m
		pb.tx, pb.pc = t, nil
	}
	return pb
}

// CopyFrom acquires a connection and copies rows into a table.
func (p *Pool) CopyFrom(ctx context.Context, table Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	pc, m, err := p.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer p.release(pc, m)
	return pc.Conn().CopyFrom(ctx, table, columns, src)
}
