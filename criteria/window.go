package criteria

import (
	"slices"
	"sort"
	"time"
	"unsafe"

	"github.com/poolpilot/poolpilot"
)

// window is one stored series, oldest sample first, kept in one buffer
// that is pruned and reused in place: the live samples are buf[head:].
//
// Pruning only moves head, and evaluation reads the live part as a slice
// of the buffer, so an evaluation copies nothing. When an insert finds the
// buffer full, the live samples move to the front of the same buffer if
// that leaves at least a sixteenth of it free, and to a new buffer an
// eighth larger than they need otherwise (or smaller, when the buffer is
// over four times too large). Each move thus frees at least a sixteenth of
// the buffer and costs at most 16 sample copies per insert amortized
// (about 6 for the 500-instance soak of docs/scaling.md: one sample in,
// one pruned per evaluation, 601 live samples in 708 slots),
// a memmove, never an allocation; a series stops allocating once its
// buffer is an eighth larger than its retention needs, and its buffer
// never exceeds bound(largest number of live samples).
type window struct {
	buf  []poolpilot.Sample
	head int
}

// keep is what a window needs from its engine to make room: the time
// before which samples are no longer kept, and how many samples a series
// usually holds (one per evaluation interval over the retention), up to
// which a filling buffer doubles.
type keep struct {
	cut  func() time.Time
	hint int
}

// minWindow is the smallest buffer allocated, so that short series do not
// reallocate at every one of their first few samples.
const minWindow = 8

// samples returns the live samples, oldest first. The slice aliases the
// buffer: it is valid until the next insert, so callers under the engine's
// lock may read it but must copy what they keep.
func (w *window) samples() []poolpilot.Sample { return w.buf[w.head:] }

// len is the number of live samples.
func (w *window) len() int { return len(w.buf) - w.head }

// last returns the newest sample.
func (w *window) last() (poolpilot.Sample, bool) {
	if w.len() == 0 {
		return poolpilot.Sample{}, false
	}
	return w.buf[len(w.buf)-1], true
}

// insert stores s after every sample not newer than it (samples usually
// arrive in order, so that is the end). When the buffer is full, samples
// older than cut are pruned first: they would be at the next evaluation,
// and a caller that observes for a long time without evaluating must not
// grow the series without bound.
func (w *window) insert(s poolpilot.Sample, k keep) {
	w.room(k)
	live := w.samples()
	i := len(live)
	for i > 0 && live[i-1].Time.After(s.Time) {
		i--
	}
	w.buf = append(w.buf, poolpilot.Sample{})
	live = w.samples()
	copy(live[i+1:], live[i:])
	live[i] = s
}

// push appends s as the newest sample, whatever its time (the fleet
// aggregate series: one sample per evaluation).
func (w *window) push(s poolpilot.Sample, k keep) {
	w.room(k)
	w.buf = append(w.buf, s)
}

// room makes room for one more sample without growing the buffer past
// what append would: a full buffer is first pruned to cut.
func (w *window) room(k keep) {
	if len(w.buf) == cap(w.buf) {
		w.prune(k.cut())
		w.move(w.len()+1, k.hint)
	}
}

// move moves the live samples to the front of a buffer with room for at
// least need samples (see window).
func (w *window) move(need, hint int) {
	n, c := w.len(), cap(w.buf)
	if w.head == 0 && n < c {
		return
	}
	if need <= c-c/16 && grow(need, hint) > c/4 {
		copy(w.buf, w.buf[w.head:])
		clear(w.buf[n:]) // drop the moved samples' strings
		w.buf, w.head = w.buf[:n], 0
		return
	}
	// slices.Grow rounds the capacity up to the allocation's size class:
	// slots that would be allocated anyway.
	w.buf, w.head = append(slices.Grow([]poolpilot.Sample(nil), grow(need, hint)), w.buf[w.head:]...), 0
}

// grow is the capacity of a new buffer for need samples: twice need while
// the series fills up to hint (few moves while it fills), an eighth more
// than need beyond.
func grow(need, hint int) int {
	if need < hint {
		return max(min(2*need, hint+hint/8), minWindow)
	}
	return max(need+need/8, minWindow)
}

// prune drops the samples older than cut and reports how many are left.
// It moves head only; the dropped slots are cleared so that their strings
// can be collected.
func (w *window) prune(cut time.Time) int {
	live := w.samples()
	i := sort.Search(len(live), func(i int) bool { return !live[i].Time.Before(cut) })
	clear(live[:i])
	w.head += i
	if w.head == len(w.buf) {
		w.buf, w.head = w.buf[:0], 0
	}
	return w.len()
}

// bound is the largest buffer of a window that never held more than live
// samples after pruning: a new buffer is at most grow(live + 1, hint) or
// hint + hint/8, rounded up to its size class (at most 1/8 more, or 8 KiB
// for a large buffer); an in-place move keeps the buffer.
func bound(live, hint int) int {
	n := max(grow(live+1, hint), hint+hint/8)
	return max(n+n/8, n+8192/int(unsafe.Sizeof(poolpilot.Sample{})))
}
