package pgpool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// Regression tests for handles used after their connection went back to the
// pool. Each handle (Conn, Tx, Rows, Row) must be its own object: a stale
// one must never reach the connection's next holder.

// handlePool opens a pool of max connections on a fresh database with a
// table t(id serial, worker int).
func handlePool(t *testing.T, max int) (*Pool, context.Context) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	p := openTest(t, testConfig(t, dsn, max, 0), Options{AppName: "pgpool-handles"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if _, err := p.Exec(ctx, "create table t (id serial primary key, worker int not null)"); err != nil {
		t.Fatal(err)
	}
	return p, ctx
}

func countRows(t *testing.T, p *Pool, ctx context.Context) int {
	t.Helper()
	var n int
	if err := p.QueryRow(ctx, "select count(*) from t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A stale Tx (Rollback after Commit) must not touch the transaction that
// the connection's next holder began: with max 1 both land on one connection.
func TestStaleTxRollbackIsNoOp(t *testing.T) {
	p, ctx := handlePool(t, 1)
	tx1, err := p.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx1.Exec(ctx, "insert into t (worker) values (1)"); err != nil {
		t.Fatal(err)
	}
	if err := tx1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	tx2, err := p.Begin(ctx) // the same connection: max is 1
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx2.Rollback(ctx) }() // frees the pool if a check fails
	if _, err := tx2.Exec(ctx, "insert into t (worker) values (2)"); err != nil {
		t.Fatal(err)
	}
	if err := tx1.Rollback(ctx); !errors.Is(err, ErrTxClosed) {
		t.Fatalf("Rollback after Commit: got %v, want ErrTxClosed", err)
	}
	if err := tx1.Commit(ctx); !errors.Is(err, ErrTxClosed) {
		t.Fatalf("Commit after Commit: got %v, want ErrTxClosed", err)
	}
	if _, err := tx1.Exec(ctx, "select 1"); !errors.Is(err, ErrTxClosed) {
		t.Fatalf("Exec after Commit: got %v, want ErrTxClosed", err)
	}
	if c := tx1.Conn(); c != nil {
		t.Fatal("Conn() of a finished Tx must be nil: the connection belongs to someone else")
	}
	if err := tx2.Commit(ctx); err != nil {
		t.Fatalf("the next holder's Commit: %v", err)
	}
	if n := countRows(t, p, ctx); n != 2 {
		t.Fatalf("rows: got %d, want 2 (a commit was lost)", n)
	}
	if s := p.Stats(); s.Acquired != 0 || s.ClosedByReason["broken"] != 0 {
		t.Fatalf("after all handles finished: acquired %d, closed broken %d; want 0, 0", s.Acquired, s.ClosedByReason["broken"])
	}
}

// The pgx idiom `defer tx.Rollback(ctx)` after a successful Commit, under
// concurrency with a tiny pool (16 workers, max 2). Bounded by count and time.
func TestDeferredRollbackAfterCommitConcurrent(t *testing.T) {
	p, ctx := handlePool(t, 2)
	const workers, perWorker = 16, 400
	deadline := time.Now().Add(4 * time.Second)
	var committed atomic.Int64
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; i < perWorker && time.Now().Before(deadline); i++ {
				if err := postOnce(ctx, p, w); err != nil {
					errs <- fmt.Errorf("worker %d, iteration %d: %w", w, i, err)
					return
				}
				committed.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if committed.Load() < workers {
		t.Fatalf("only %d commits: the test did not exercise the pool", committed.Load())
	}
	if n := countRows(t, p, ctx); int64(n) != committed.Load() {
		t.Fatalf("rows: got %d, want %d (one per successful Commit)", n, committed.Load())
	}
	s := p.Stats()
	if s.Acquired != 0 || s.ClosedByReason["broken"] != 0 {
		t.Fatalf("after the run: acquired %d, closed broken %d; want 0, 0", s.Acquired, s.ClosedByReason["broken"])
	}
	t.Logf("%d commits by %d workers on max 2", committed.Load(), workers)
}

// postOnce is a handler's transaction: defer Rollback, insert, Commit, then
// some work after the Commit (yielding lets another worker take the
// connection before the deferred Rollback runs).
func postOnce(ctx context.Context, p *Pool, worker int) (err error) {
	tx, err := p.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := tx.Rollback(ctx); !errors.Is(rerr, ErrTxClosed) && err == nil {
			err = fmt.Errorf("deferred Rollback after Commit: got %v, want ErrTxClosed", rerr)
		}
	}()
	if _, err := tx.Exec(ctx, "insert into t (worker) values ($1)", worker); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	runtime.Gosched()
	return nil
}

// Rows read after they were exhausted or closed keep their own final error
// and command tag, even when the connection already serves someone else.
func TestStaleRowsKeepTheirOwnState(t *testing.T) {
	p, ctx := handlePool(t, 1)
	bad, err := p.Query(ctx, "select 1/(g-3) from generate_series(1, 5) g")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close() // frees the pool if a check fails
	for bad.Next() {
	}
	good, err := p.Query(ctx, "select g from generate_series(1, 2) g") // same connection
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	var pe *PgError
	if err := bad.Err(); !errors.As(err, &pe) || pe.Code != "22012" {
		t.Fatalf("exhausted rows' Err after the connection was reused: got %v, want division_by_zero (22012)", err)
	}
	if bad.Next() {
		t.Fatal("Next after the end must stay false")
	}
	var x int
	if err := bad.Scan(&x); err == nil {
		t.Fatal("Scan on closed rows must fail")
	}
	if bad.Conn() != nil || bad.RawValues() != nil || bad.FieldDescriptions() != nil {
		t.Fatal("closed rows must not hand out the connection's state")
	}
	bad.Close() // a second Close is a no-op
	sum := 0
	for good.Next() {
		if err := good.Scan(&x); err != nil {
			t.Fatal(err)
		}
		sum += x
	}
	if err := good.Err(); err != nil || sum != 3 {
		t.Fatalf("the next holder's rows: sum %d, err %v; want 3, nil", sum, err)
	}
	good.Close()
	if tag := good.CommandTag().String(); tag != "SELECT 2" {
		t.Fatalf("CommandTag after Close: %q, want SELECT 2", tag)
	}
	if s := p.Stats(); s.Acquired != 0 {
		t.Fatalf("acquired %d after all rows closed, want 0", s.Acquired)
	}
}

// Concurrent queries reading Rows.Err() and CommandTag() after the rows are
// exhausted and closed, while other workers reuse the connections (run
// under -race). Half the queries fail on their third row.
func TestRowsErrAfterCloseConcurrent(t *testing.T) {
	p, ctx := handlePool(t, 2)
	const workers, perWorker = 8, 150
	deadline := time.Now().Add(4 * time.Second)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; i < perWorker && time.Now().Before(deadline); i++ {
				if err := queryOnce(ctx, p, (w+i)%2 == 0); err != nil {
					errs <- fmt.Errorf("worker %d, iteration %d: %w", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := p.Stats(); s.Acquired != 0 {
		t.Fatalf("acquired %d after the run, want 0", s.Acquired)
	}
}

func queryOnce(ctx context.Context, p *Pool, fail bool) error {
	sql := "select g from generate_series(1, 5) g"
	if fail {
		sql = "select 1/(g-3) from generate_series(1, 5) g"
	}
	rows, err := p.Query(ctx, sql)
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		n++
	}
	runtime.Gosched() // let another worker take the connection
	err = rows.Err()
	rows.Close()
	var pe *PgError
	switch {
	case fail && (!errors.As(err, &pe) || pe.Code != "22012"):
		return fmt.Errorf("failing query: Err() = %v, want division_by_zero", err)
	case !fail && (err != nil || n != 5 || rows.CommandTag().String() != "SELECT 5"):
		return fmt.Errorf("good query: %d rows, Err() = %v, tag %q; want 5, nil, SELECT 5", n, err, rows.CommandTag())
	case rows.Next():
		return errors.New("Next after Close returned true")
	case !errors.Is(rows.Err(), err):
		return fmt.Errorf("Err() changed after Close: %v, was %v", rows.Err(), err)
	}
	return nil
}

// A second Scan of a QueryRow must not read, nor release, the row of the
// connection's next holder.
func TestQueryRowScanTwice(t *testing.T) {
	p, ctx := handlePool(t, 1)
	first := p.QueryRow(ctx, "select 1")
	var a int
	if err := first.Scan(&a); err != nil || a != 1 {
		t.Fatalf("first Scan: %d, %v", a, err)
	}
	second := p.QueryRow(ctx, "select 2")        // same connection: max is 1
	defer func() { _ = second.Scan(new(int)) }() // frees the pool if a check fails
	b := -1
	if err := first.Scan(&b); !errors.Is(err, ErrNoRows) || b != -1 {
		t.Fatalf("second Scan of a used Row: got %d, %v; want it untouched and ErrNoRows (as pgx)", b, err)
	}
	if s := p.Stats(); s.Acquired != 1 {
		t.Fatalf("after the stale Scan: acquired %d, want 1 (the next holder's row still holds its connection)", s.Acquired)
	}
	if err := second.Scan(&b); err != nil || b != 2 {
		t.Fatalf("the next holder's Scan: got %d, %v; want 2, nil", b, err)
	}
	if s := p.Stats(); s.Acquired != 0 {
		t.Fatalf("acquired %d after both rows scanned, want 0", s.Acquired)
	}
}

// A stale Conn.Release (after Release) is a no-op, and a released Conn
// refuses work instead of using the connection's next holder's session.
func TestStaleConnReleaseIsNoOp(t *testing.T) {
	p, ctx := handlePool(t, 1)
	c1, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c1.Release()
	c2, err := p.Acquire(ctx) // the same connection: max is 1
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Release() // frees the pool if a check fails
	c1.Release()       // stale: must not release c2's connection
	if s := p.Stats(); s.Acquired != 1 {
		t.Fatalf("after a stale Release: acquired %d, want 1", s.Acquired)
	}
	if c1 == c2 {
		t.Fatal("Acquire handed out the same *Conn twice")
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if c3, err := p.Acquire(short); err == nil {
		c3.Release()
		t.Fatal("a second connection was handed out while max is 1 and c2 holds it")
	}
	if _, err := c1.Exec(ctx, "select 1"); !errors.Is(err, ErrReleased) {
		t.Fatalf("Exec on a released Conn: got %v, want ErrReleased", err)
	}
	if _, err := c1.Begin(ctx); !errors.Is(err, ErrReleased) {
		t.Fatalf("Begin on a released Conn: got %v, want ErrReleased", err)
	}
	if rows, err := c1.Query(ctx, "select 1"); !errors.Is(err, ErrReleased) || rows.Next() {
		t.Fatalf("Query on a released Conn: got %v, want ErrReleased and no rows", err)
	}
	if err := c1.QueryRow(ctx, "select 1").Scan(new(int)); !errors.Is(err, ErrReleased) {
		t.Fatalf("QueryRow on a released Conn: got %v, want ErrReleased", err)
	}
	if err := c1.Ping(ctx); !errors.Is(err, ErrReleased) {
		t.Fatalf("Ping on a released Conn: got %v, want ErrReleased", err)
	}
	if _, err := c2.Exec(ctx, "select 1"); err != nil {
		t.Fatalf("the holder's Exec: %v", err)
	}
	c2.Release()
	c2.Release()
	if s := p.Stats(); s.Acquired != 0 {
		t.Fatalf("acquired %d after release, want 0", s.Acquired)
	}
}

// A batch's results release the connection once; a batch that begins a
// transaction hands the connection to its Tx, which releases it on Commit.
func TestBatchHandles(t *testing.T) {
	p, ctx := handlePool(t, 1)
	b1 := &Batch{}
	b1.Queue("insert into t (worker) values (1)")
	br1 := p.SendBatch(ctx, b1)
	if err := br1.Close(); err != nil {
		t.Fatal(err)
	}
	if br1.Tx() != nil {
		t.Fatal("a batch without BeginTx has no Tx")
	}
	b2 := &Batch{}
	b2.BeginTx(TxOptions{})
	b2.Queue("insert into t (worker) values (2)")
	br2 := p.SendBatch(ctx, b2) // the same connection: max is 1
	tx := br2.Tx()
	defer func() { _ = tx.Rollback(ctx) }() // the pgx idiom; also frees the pool if a check fails
	if err := br1.Close(); err != nil {
		t.Fatalf("second Close of a batch: %v", err)
	}
	if _, err := br1.Exec(); err == nil {
		t.Fatal("Exec on closed batch results must fail")
	}
	if err := br2.Close(); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Acquired != 1 {
		t.Fatalf("after closing a batch that began a transaction: acquired %d, want 1 (its Tx holds the connection)", s.Acquired)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); !errors.Is(err, ErrTxClosed) {
		t.Fatalf("Rollback after Commit: %v, want ErrTxClosed", err)
	}
	if n := countRows(t, p, ctx); n != 2 {
		t.Fatalf("rows: got %d, want 2", n)
	}
	if s := p.Stats(); s.Acquired != 0 || s.ClosedByReason["broken"] != 0 {
		t.Fatalf("acquired %d, closed broken %d; want 0, 0", s.Acquired, s.ClosedByReason["broken"])
	}
}
