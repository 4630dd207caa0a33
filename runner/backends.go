package runner

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/pgpool"
	"github.com/poolpilot/poolpilot/pgserver"
)

// backendCounter is verify's view of pg_stat_activity through a small pool
// (application_name poolpilot-verify) on the plan's database, opened at
// the first count and closed with the run. Nil when the DSN is not set.
func (r *runner) backendCounter() change.BackendCounter {
	dsn := r.getenv(r.p.Database.DSNEnv)
	if dsn == "" {
		return nil
	}
	var once sync.Once
	var facts *pgserver.Facts
	var openErr error
	return func(ctx context.Context) (map[string]int, error) {
		once.Do(func() {
			octx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			pool, err := assemble.ToolPool(octx, dsn, "poolpilot-verify", 1)
			if err != nil {
				openErr = errors.New("database: " + pgpool.Redact(err.Error()))
				return
			}
			r.mu.Lock()
			r.closers = append(r.closers, pool.Close)
			r.mu.Unlock()
			facts = &pgserver.Facts{Pool: pool}
		})
		if openErr != nil {
			return nil, openErr
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return facts.BackendsByApp(qctx)
	}
}
