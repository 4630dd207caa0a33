package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

// newStore opens a pool on a fresh database, migrates it and returns the
// store and the pool (for corrupting rows behind the store's back).
func newStore(t *testing.T) (*ledger.Store, *pgpool.Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "DB_POOL_MAX": "20", "DB_POOL_MIN": "0"}
	cfg, err := pgpool.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgpool.Open(ctx, cfg, pgpool.Options{AppName: "ledger-test"})
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	store := ledger.NewStore(pool)
	if err := store.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return store, pool
}

func sale(amount int64) ledger.Entry {
	return ledger.Entry{Description: "sale", Lines: []ledger.Line{
		{Account: "cash", Amount: amount}, {Account: "revenue", Amount: -amount}}}
}
