package advisor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

func TestScriptTargetRunsInOrderOnOneConnection(t *testing.T) {
	cfg := pgpool.Config{PoolConfig: pgpool.DefaultPoolConfig(), DatabaseURL: pgtest.NewDatabase(t)}
	cfg.Max, cfg.Min = 1, 1
	pool, err := pgpool.Open(context.Background(), cfg, pgpool.Options{Window: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "create table counter (n int not null); insert into counter values (0)"); err != nil {
		t.Fatal(err)
	}
	s, err := ParseScript([]byte("begin;\nupdate counter\n  set n = n + 1;\ncommit;\n"))
	if err != nil {
		t.Fatal(err)
	}
	tg := NewScriptTarget(pool, s)
	rep, err := loadgen.Run(ctx, loadgen.Config{Concurrency: 2, Duration: 200 * time.Millisecond}, tg)
	if err != nil || rep.Errors != 0 || rep.Requests == 0 {
		t.Fatalf("run: %v, %+v", err, rep)
	}
	var n int64
	if err := pool.QueryRow(ctx, "select n from counter").Scan(&n); err != nil || n < rep.Requests {
		t.Errorf("counter %d after %d measured iterations (%v)", n, rep.Requests, err)
	}
	// A failing statement is named, and its transaction does not leak into the next iteration.
	bad, _ := ParseScript([]byte("begin;\nselect 1/0;\ncommit;\n"))
	err = NewScriptTarget(pool, bad).Preflight(ctx)
	var se *StatementError
	if !errors.As(err, &se) || se.Index != 2 || se.Stmt.Line != 2 || se.Kind() != "sqlstate_22012" {
		t.Fatalf("err %v", err)
	}
	if _, err := tg.Do(ctx); err != nil {
		t.Errorf("the connection after a failed script: %v", err)
	}
}
