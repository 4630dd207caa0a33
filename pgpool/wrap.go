package pgpool

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// poolRows releases its connection when the rows are closed or exhausted.
type poolRows struct {
	pgx.Rows
	p  *Pool
	pc *pgxpool.Conn
	m  *connMeta
}

func (r *poolRows) done() {
	if r.pc != nil {
		pc := r.pc
		r.pc = nil
		r.p.release(pc, r.m)
	}
}

func (r *poolRows) Close() {
	r.Rows.Close()
	r.done()
}

func (r *poolRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.done()
	return false
}

// poolRow releases its connection after Scan.
type poolRow struct {
	r  pgx.Row
	p  *Pool
	pc *pgxpool.Conn
	m  *connMeta
}

func (r *poolRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if r.pc != nil {
		pc := r.pc
		r.pc = nil
		r.p.release(pc, r.m)
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// poolTx releases its connection on Commit or Rollback.
type poolTx struct {
	pgx.Tx
	p  *Pool
	pc *pgxpool.Conn
	m  *connMeta
}

func (t *poolTx) done() {
	if t.pc != nil {
		pc := t.pc
		t.pc = nil
		t.p.release(pc, t.m)
	}
}

func (t *poolTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	t.done()
	return err
}

func (t *poolTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.done()
	return err
}

// poolBatch releases its connection when the results are closed.
type poolBatch struct {
	pgx.BatchResults
	p  *Pool
	pc *pgxpool.Conn
	m  *connMeta
}

func (b *poolBatch) Close() error {
	err := b.BatchResults.Close()
	if b.pc != nil {
		pc := b.pc
		b.pc = nil
		b.p.release(pc, b.m)
	}
	return err
}

type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow{b.err} }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
