package runner

import (
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/change"
)

// backendCounter is verify's view of pg_stat_activity (assemble's, over
// the plan's database), closed with the run. Nil when the DSN is not set.
func (r *runner) backendCounter() change.BackendCounter {
	count, closeIt := assemble.BackendCounter(r.getenv(r.p.Database.DSNEnv))
	r.mu.Lock()
	r.closers = append(r.closers, closeIt)
	r.mu.Unlock()
	return count
}
