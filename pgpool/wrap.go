package pgpool

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every handle given to a caller (Conn, Rows, Row, Tx, BatchResults) is its
// own object, never reused: a handle used after it gave its connection back
// cannot reach the connection's next holder. Its pc field is the lease: set
// while it holds the connection, nil once released, and only the handle's
// owner reads or writes it.
//
// Conn, Rows, Row and Tx come from per-connection slabs (as pgxpool and pgx
// do): a slab of slabSize handles is allocated when the previous one is used
// up, and an element is handed out once. Only the connection's current
// holder takes from its slabs. A slab stays in memory while any of its
// handles is referenced.
const slabSize = 64

type handleSlabs struct {
	conns []Conn
	rows  []poolRows
	row   []poolRow
	txs   []poolTx
}

// take hands out the next unused element of a slab.
func take[T any](s *[]T) *T {
	if len(*s) == 0 {
		*s = make([]T, slabSize)
	}
	e := &(*s)[0]
	*s = (*s)[1:]
	return e
}

// poolRows releases its connection when the rows are closed, exhausted or
// fail. After that it answers like pgx's closed rows from its own state (Err,
// CommandTag; Next false) and refuses whatever would read the connection.
type poolRows struct {
	r  pgx.Rows
	pc *pgxpool.Conn // nil once released
	m  *connMeta
}

func (r *poolRows) release() {
	if pc := r.pc; pc != nil {
		r.pc = nil
		r.m.p.release(pc, r.m)
	}
}

func (r *poolRows) Close() {
	if r.pc == nil {
		return
	}
	r.r.Close()
	r.release()
}

func (r *poolRows) Next() bool {
	if r.pc == nil {
		return false
	}
	if r.r.Next() {
		return true
	}
	r.release() // pgx closed the rows at their end
	return false
}

func (r *poolRows) Scan(dest ...any) error {
	if r.pc == nil {
		return ErrReleased
	}
	err := r.r.Scan(dest...)
	if err != nil {
		r.Close() // pgx closed them already (a scan error is fatal)
	}
	return err
}

func (r *poolRows) Values() ([]any, error) {
	if r.pc == nil {
		return nil, ErrReleased
	}
	v, err := r.r.Values()
	if err != nil {
		r.Close()
	}
	return v, err
}

// Err and CommandTag read the rows' own final state: safe after release.
func (r *poolRows) Err() error                    { return r.r.Err() }
func (r *poolRows) CommandTag() pgconn.CommandTag { return r.r.CommandTag() }

// The rest reads the connection's buffers: nil once released.
func (r *poolRows) FieldDescriptions() []pgconn.FieldDescription {
	if r.pc == nil {
		return nil
	}
	return r.r.FieldDescriptions()
}

func (r *poolRows) RawValues() [][]byte {
	if r.pc == nil {
		return nil
	}
	return r.r.RawValues()
}

func (r *poolRows) Conn() *pgx.Conn {
	if r.pc == nil {
		return nil
	}
	return r.r.Conn()
}

func (r *poolRows) TypeMap() *pgtype.Map {
	if r.pc == nil {
		return nil
	}
	return r.r.TypeMap()
}

// poolRow releases its connection after the first Scan (also when the scan
// panics). A second Scan answers like pgx's: ErrNoRows, or the first error.
type poolRow struct {
	r  pgx.Row
	pc *pgxpool.Conn // nil once released
	m  *connMeta
}

func (r *poolRow) Scan(dest ...any) error {
	if r.pc == nil {
		return r.r.Scan(dest...) // pgx's own closed row: touches no connection
	}
	defer r.release()
	return r.r.Scan(dest...)
}

func (r *poolRow) release() {
	if pc := r.pc; pc != nil {
		r.pc = nil
		r.m.p.release(pc, r.m)
	}
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// errRows are rows that never started: Err and Scan return err.
type errRows struct{ err error }

func (errRows) Close()                                       {}
func (e errRows) Err() error                                 { return e.err }
func (errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (errRows) Next() bool                                   { return false }
func (e errRows) Scan(...any) error                          { return e.err }
func (e errRows) Values() ([]any, error)                     { return nil, e.err }
func (errRows) RawValues() [][]byte                          { return nil }
func (errRows) Conn() *pgx.Conn                              { return nil }
func (errRows) TypeMap() *pgtype.Map                         { return nil }

// poolTx releases its connection on Commit or Rollback. pgx's transaction
// underneath is its own object too, so a second Commit or Rollback returns
// ErrTxClosed and does nothing, as in pgx.
type poolTx struct {
	pgx.Tx
	pc *pgxpool.Conn // nil once released
	m  *connMeta
}

func (t *poolTx) release() {
	if pc := t.pc; pc != nil {
		t.pc = nil
		t.m.p.release(pc, t.m)
	}
}

func (t *poolTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	t.release()
	return err
}

func (t *poolTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.release()
	return err
}

// Conn is nil once the transaction ended: the connection is someone else's.
func (t *poolTx) Conn() *pgx.Conn {
	if t.pc == nil {
		return nil
	}
	return t.Tx.Conn()
}

// poolBatch releases its connection when the results are closed, unless the
// batch began a transaction (Batch.BeginTx): then its Tx owns the connection
// and Commit or Rollback releases it, as in pgxpool. pgx's results
// underneath refuse use after Close ("batch already closed").
type poolBatch struct {
	pgx.BatchResults
	pc *pgxpool.Conn // nil once released, or when tx owns the connection
	m  *connMeta
	tx *poolTx
}

func (b *poolBatch) Close() error {
	err := b.BatchResults.Close()
	if pc := b.pc; pc != nil {
		b.pc = nil
		b.m.p.release(pc, b.m)
	}
	return err
}

func (b *poolBatch) Tx() pgx.Tx {
	if b.tx == nil {
		return nil
	}
	return b.tx
}
