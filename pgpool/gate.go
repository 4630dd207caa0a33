package pgpool

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// gate is a resizable FIFO semaphore: at most limit callers hold a permit.
// The uncontended path is one compare-and-swap; callers that must wait queue
// in arrival order. Lowering the limit never revokes a permit: holders keep
// theirs and the gate admits nobody until inUse drops below the new limit.
type gate struct {
	_       [64]byte // keep the hot line apart from its neighbours
	inUse   atomic.Int64
	limit   atomic.Int64
	waiting atomic.Int64 // waiters queued (or about to queue)
	_       [64]byte

	mu      sync.Mutex
	waiters []*waiter
}

type waiter struct {
	ch      chan struct{}
	since   time.Time
	granted bool // under gate.mu
}

func newGate(limit int) *gate {
	g := &gate{}
	g.limit.Store(int64(limit))
	return g
}

// tryAcquire takes a permit without waiting. It does not overtake queued
// waiters.
func (g *gate) tryAcquire() bool {
	if g.waiting.Load() > 0 {
		return false
	}
	return g.take()
}

func (g *gate) take() bool {
	for {
		n := g.inUse.Load()
		if n >= g.limit.Load() {
			return false
		}
		if g.inUse.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// acquire waits for a permit until ctx is done.
func (g *gate) acquire(ctx context.Context) error {
	if g.tryAcquire() {
		return nil
	}
	g.mu.Lock()
	// Announce before checking, so that a concurrent release sees us
	// (release decrements inUse, then reads waiting).
	g.waiting.Add(1)
	if len(g.waiters) == 0 && g.take() {
		g.waiting.Add(-1)
		g.mu.Unlock()
		return nil
	}
	w := &waiter{ch: make(chan struct{}), since: time.Now()}
	g.waiters = append(g.waiters, w)
	g.mu.Unlock()

	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	if w.granted { // granted while we gave up: pass the permit on
		g.mu.Unlock()
		g.release()
		return ctx.Err()
	}
	for i, x := range g.waiters {
		if x == w {
			g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
			break
		}
	}
	g.waiting.Add(-1)
	g.mu.Unlock()
	return ctx.Err()
}

// release returns a permit and hands it to the first waiter, if any.
func (g *gate) release() {
	g.inUse.Add(-1)
	if g.waiting.Load() > 0 {
		g.mu.Lock()
		g.wakeLocked()
		g.mu.Unlock()
	}
}

func (g *gate) wakeLocked() {
	for len(g.waiters) > 0 && g.take() {
		w := g.waiters[0]
		g.waiters[0] = nil
		g.waiters = g.waiters[1:]
		w.granted = true
		g.waiting.Add(-1)
		close(w.ch)
	}
}

// setLimit changes the number of permits; growing admits waiters at once.
func (g *gate) setLimit(n int) {
	g.mu.Lock()
	g.limit.Store(int64(n))
	g.wakeLocked()
	g.mu.Unlock()
}

// queued returns the number of waiters and the time the oldest one started
// waiting (zero when none).
func (g *gate) queued() (int, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiters) == 0 {
		return 0, time.Time{}
	}
	return len(g.waiters), g.waiters[0].since
}
