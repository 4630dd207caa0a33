package pgpool

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// A lock-free log-linear histogram of durations in nanoseconds, HDR-style:
// 64 linear sub-buckets per power of two, so a recorded value is known to
// within 1/64 (1.6 %) of itself. Recording is one atomic add.
const (
	subBits    = 6
	subCount   = 1 << subBits
	maxShift   = 35 // values up to 2^41 ns (about 36 minutes); larger ones land in the last bucket
	numBuckets = (maxShift + 2) * subCount
)

type histogram struct {
	counts [numBuckets]atomic.Uint64
}

func bucketOf(ns int64) int {
	if ns < subCount {
		if ns < 0 {
			return 0
		}
		return int(ns)
	}
	v := uint64(ns)
	shift := bits.Len64(v) - 1 - subBits
	if shift > maxShift {
		return numBuckets - 1
	}
	return (shift+1)*subCount + int(v>>uint(shift)) - subCount
}

// bucketBounds returns the lowest value of bucket i and its width.
func bucketBounds(i int) (low, width int64) {
	if i < subCount {
		return int64(i), 1
	}
	shift := i/subCount - 1
	mant := i % subCount
	return int64(subCount+mant) << uint(shift), int64(1) << uint(shift)
}

func (h *histogram) record(ns int64) { h.counts[bucketOf(ns)].Add(1) }

// snapshot is a plain copy of histogram counts, summed over window slots.
type snapshot struct {
	counts [numBuckets]uint64
	total  uint64
}

func (s *snapshot) add(h *histogram) {
	for i := range h.counts {
		if n := h.counts[i].Load(); n != 0 {
			s.counts[i] += n
			s.total += n
		}
	}
}

// quantile returns the q-quantile in milliseconds, counting extraZeros
// observations of zero in front of the recorded ones; it reports a bucket's
// upper edge (the highest value equivalent to it), as HDR histograms do.
func (s *snapshot) quantile(q float64, extraZeros uint64) float64 {
	total := s.total + extraZeros
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	if rank <= extraZeros {
		return 0
	}
	var seen = extraZeros
	for i := range s.counts {
		seen += s.counts[i]
		if seen >= rank {
			low, width := bucketBounds(i)
			return float64(low+width-1) / float64(time.Millisecond)
		}
	}
	return 0
}

// window keeps per-slot histograms and counters over a sliding window, and
// folds slots that leave the window into cumulative totals.
type window struct {
	slotNanos int64
	slots     []slot
	mu        sync.Mutex // rotation and cumulative reads
	retired   slotTotals
	// retiredTotal is the number of waits folded into retired.
	retiredTotal uint64
}

const windowSlots = 12

// waitStripes spreads the hot wait histogram over several copies, chosen
// by connection, so that callers on different cores rarely add to the same
// cache line.
const waitStripes = 4

type slot struct {
	epoch atomic.Int64
	wait  [waitStripes]histogram // whole acquire (queue + dial or pick-up)
	queue histogram              // time in the gate, only for acquires that had to queue
	dial  histogram              // connection establishment time, per new connection
	dials atomic.Int64
	// dialedAcquires counts acquires that got a freshly dialed connection.
	dialedAcquires atomic.Int64
}

// slotTotals are the cumulative counts folded from retired slots.
type slotTotals struct {
	wait           [numBuckets]uint64
	dials          int64
	dialedAcquires int64
}

func newWindow(d time.Duration) *window {
	w := &window{slotNanos: int64(d) / windowSlots, slots: make([]slot, windowSlots)}
	if w.slotNanos <= 0 {
		w.slotNanos = 1
	}
	for i := range w.slots {
		w.slots[i].epoch.Store(-1)
	}
	return w
}

// at returns the slot for time now (unix nanoseconds), rotating it when it
// last held an older epoch.
func (w *window) at(now int64) *slot {
	e := now / w.slotNanos
	s := &w.slots[e%windowSlots]
	if s.epoch.Load() != e {
		w.rotate(s, e)
	}
	return s
}

func (w *window) rotate(s *slot, e int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if old := s.epoch.Load(); old >= e {
		return
	}
	for i := range s.queue.counts {
		for k := range s.wait {
			if n := s.wait[k].counts[i].Swap(0); n != 0 {
				w.retired.wait[i] += n
				w.retiredTotal += n
			}
		}
		s.queue.counts[i].Store(0)
		s.dial.counts[i].Store(0)
	}
	w.retired.dials += s.dials.Swap(0)
	w.retired.dialedAcquires += s.dialedAcquires.Swap(0)
	s.epoch.Store(e)
}

// windowStats is what the window holds for the last windowSlots slots.
type windowStats struct {
	wait, queue, dial snapshot
	dials             int64
	dialedAcquires    int64
	// acquiresEver counts every recorded acquire since the window was made,
	// in the window or not.
	acquiresEver uint64
}

// read sums the slots of the window ending at now, in one pass over the
// buckets (a Stats snapshot costs about 0.1 ms). When cum is not nil, the
// same pass also fills it with the wait counts since the window was made
// (what cumulative returns): the wait stripes of every slot are read anyway
// for acquiresEver, so a caller that needs both (the /metrics collector)
// reads them once instead of twice, and both come from the same instant.
func (w *window) read(now int64, cum *[numBuckets]uint64) *windowStats {
	e := now / w.slotNanos
	ws := &windowStats{}
	// Holding mu keeps a rotation from moving counts between retired and a
	// slot mid-read (acquiresEver must never go down); writers take mu only
	// to rotate, once per slot.
	w.mu.Lock()
	defer w.mu.Unlock()
	ws.acquiresEver = w.retiredTotal
	if cum != nil {
		*cum = w.retired.wait
	}
	for i := range w.slots {
		s := &w.slots[i]
		ep := s.epoch.Load()
		in := ep >= 0 && ep > e-windowSlots && ep <= e
		// Two copies of the bucket loop keep a test of cum out of the
		// hottest loop of Stats (it cost Stats about 8 %).
		if cum != nil {
			for j := range cum {
				n := s.waitCount(j)
				ws.acquiresEver += n
				cum[j] += n
				if in && n != 0 {
					ws.wait.counts[j] += n
					ws.wait.total += n
				}
			}
		} else {
			for j := range s.queue.counts {
				n := s.waitCount(j)
				ws.acquiresEver += n
				if in && n != 0 {
					ws.wait.counts[j] += n
					ws.wait.total += n
				}
			}
		}
		if !in {
			continue
		}
		ws.queue.add(&s.queue)
		ws.dial.add(&s.dial)
		ws.dials += s.dials.Load()
		ws.dialedAcquires += s.dialedAcquires.Load()
	}
	return ws
}

// waitCount is bucket j of the slot's wait histogram, summed over stripes.
func (s *slot) waitCount(j int) uint64 {
	var n uint64
	for k := range s.wait {
		n += s.wait[k].counts[j].Load()
	}
	return n
}

// cumulative returns the wait counts since the pool opened, plus totals.
func (w *window) cumulative() (counts [numBuckets]uint64, dials, dialedAcquires int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	counts = w.retired.wait
	dials, dialedAcquires = w.retired.dials, w.retired.dialedAcquires
	for i := range w.slots {
		s := &w.slots[i]
		for k := range s.wait {
			for j := range s.wait[k].counts {
				counts[j] += s.wait[k].counts[j].Load()
			}
		}
		dials += s.dials.Load()
		dialedAcquires += s.dialedAcquires.Load()
	}
	return counts, dials, dialedAcquires
}
