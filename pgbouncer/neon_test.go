package pgbouncer

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/pgpool"
)

// TestNeonPoolerHostIsDetected is the host half of the Neon path: a
// "-pooler" host name selects transaction-pooler mode without
// DB_POOL_POOLER. Resolving such a name to 127.0.0.1 is not possible here,
// so the wire half is TestTransactionModeThroughPgBouncer.
func TestNeonPoolerHostIsDetected(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://app:pw@ep-cool-darkness-123456-pooler.eu-central-1.aws.neon.tech/ledger?sslmode=require": pgpool.PoolerTransaction,
		"postgres://app:pw@ep-cool-darkness-123456.eu-central-1.aws.neon.tech/ledger?sslmode=require":        "",
		"postgres://app@db.internal:6432/ledger":                                                             pgpool.PoolerTransaction,
	} {
		env := map[string]string{"DATABASE_URL": dsn}
		cfg, err := pgpool.LoadConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Pooler != want {
			t.Errorf("%s: pooler %q, want %q", pgpool.Redact(dsn), cfg.Pooler, want)
		}
		if want != "" && cfg.Source[pgpool.KeyPooler] != poolpilot.FromDetected {
			t.Errorf("%s: pooler provenance %q, want detected", pgpool.Redact(dsn), cfg.Source[pgpool.KeyPooler])
		}
	}
}

// TestTransactionModeThroughPgBouncer is the wire half: with
// DB_POOL_POOLER=transaction the pool runs parameterised queries in
// transactions through a real PgBouncer in transaction mode — 16 workers
// on 5 server connections, so every transaction may land on another server
// connection — without server-side prepared statements.
func TestTransactionModeThroughPgBouncer(t *testing.T) {
	for _, pooler := range []string{"transaction", ""} {
		t.Run("pooler="+pooler, func(t *testing.T) {
			failures := workload(t, pooler)
			switch {
			case pooler != "" && failures != 0:
				t.Errorf("%d transactions failed in exec mode", failures)
			case pooler == "" && failures == 0:
				// The control: PgBouncer 1.18 in transaction mode does not
				// carry prepared statements across server connections.
				t.Errorf("no transaction failed with server-side prepared statements: the control does not control")
			}
		})
	}
}

// workload runs 16 workers × 25 transactions and returns how many failed.
func workload(t *testing.T, pooler string) int {
	b, db, _ := bouncer(t)
	env := map[string]string{"DATABASE_URL": b.URL(db), "DB_POOL_MAX": "16", "DB_POOL_MIN": "2", "DB_POOL_POOLER": pooler}
	cfg, err := pgpool.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := pgpool.Open(ctx, cfg, pgpool.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Logs())
	}
	defer p.Close()
	if (p.QueryMode() == "exec") != (pooler != "") {
		t.Fatalf("query mode %q with DB_POOL_POOLER=%q", p.QueryMode(), pooler)
	}
	if _, err := p.Exec(ctx, "create table t (id int primary key, v text)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if err := txn(ctx, p, w*1000+i); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	failures := 0
	for err := range errs {
		failures++
		t.Logf("DB_POOL_POOLER=%q: transaction through pgbouncer: %v", pooler, err)
	}
	if failures == 0 {
		var n int
		if err := p.QueryRow(ctx, "select count(*) from t where v like $1", "w%").Scan(&n); err != nil || n != 400 {
			t.Errorf("rows %d %v, want 400", n, err)
		}
	}
	return failures
}

func txn(ctx context.Context, p *pgpool.Pool, id int) error {
	tx, err := p.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "insert into t (id, v) values ($1, $2)", id, fmt.Sprintf("w%d", id)); err != nil {
		tx.Rollback(ctx)
		return err
	}
	var v string
	if err := tx.QueryRow(ctx, "select v from t where id = $1", id).Scan(&v); err != nil {
		tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}
