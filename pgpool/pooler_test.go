package pgpool

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgbouncertest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
)

type errBox struct{ err error }

// hammer runs parameterised queries from 8 goroutines and returns how many
// failed and the first error.
func hammer(p *Pool, n int) (int64, error) {
	var failed atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range n {
				sql := fmt.Sprintf("select $1::int + %d", i%7)
				var got int
				err := p.QueryRow(ctx, sql, g).Scan(&got)
				if err == nil && got != g+i%7 {
					err = fmt.Errorf("got %d, want %d", got, g+i%7)
				}
				if err != nil {
					failed.Add(1)
					first.CompareAndSwap(nil, errBox{err})
				}
			}
		}()
	}
	wg.Wait()
	eb, _ := first.Load().(errBox)
	return failed.Load(), eb.err
}

// TestTransactionPoolerThroughPgBouncer proves the pooler mode through a
// real PgBouncer in transaction mode: named prepared statements (pgx's
// default) break there, the pool's transaction mode does not.
func TestTransactionPoolerThroughPgBouncer(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	u, _ := url.Parse(dsn)
	port, _ := strconv.Atoi(u.Port())
	b := pgbouncertest.New(t, pgbouncertest.Options{UpstreamPort: port, PoolMode: "transaction", PoolSize: 2})
	bdsn := b.URL(strings.TrimPrefix(u.Path, "/"))

	cfg, err := LoadConfig(envOf(map[string]string{EnvDatabaseURL: bdsn, EnvMax: "8", EnvMin: "0", EnvPooler: "transaction"}))
	if err != nil {
		t.Fatal(err)
	}
	p := openTest(t, cfg, Options{AppName: "pgpool-pooler-test"})
	if s := p.Stats(); s.Pooler != "transaction" || s.QueryMode != "exec" || s.Source["pooler"] != poolpilot.FromEnv {
		t.Fatalf("pooler %q mode %q source %q", s.Pooler, s.QueryMode, s.Source["pooler"])
	}
	if n, err := hammer(p, 150); n != 0 {
		t.Fatalf("%d queries failed through PgBouncer in transaction mode, first: %v\n%s", n, err, b.Logs())
	}
	if bud := p.Budget(); bud == nil || !bud.OK || !strings.Contains(bud.Message, "behind a transaction pooler") {
		t.Errorf("budget behind a pooler: %+v", bud)
	}

	// The control: the default mode (server-side prepared statements) fails
	// through the same PgBouncer, which is why the mode matters.
	direct, err := LoadConfig(envOf(map[string]string{EnvDatabaseURL: bdsn, EnvMax: "8", EnvMin: "0"}))
	if err != nil {
		t.Fatal(err)
	}
	q := openTest(t, direct, Options{AppName: "pgpool-pooler-control"})
	if q.QueryMode() != "cache_statement" {
		t.Fatalf("control mode %q", q.QueryMode())
	}
	n, err := hammer(q, 150)
	if n == 0 {
		t.Fatal("default query mode did not fail through PgBouncer in transaction mode: the test proves nothing")
	}
	if !strings.Contains(err.Error(), "prepared statement") {
		t.Errorf("control failed for another reason: %v", err)
	}
	t.Logf("control (cache_statement) failures: %d of 1200, first: %v", n, err)
}
