package loadgen

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: microseconds, from 1 µs to one hour, 3 significant
// digits. Longer values are clamped to the highest trackable value.
const (
	histLowest  = 1
	histHighest = int64(time.Hour / time.Microsecond)
	histDigits  = 3
	maxKinds    = 32 // distinct error kinds kept; the rest count as "other"
	maxSamples  = 5  // error and violation messages kept as examples
)

func newHist() *hdr.Histogram { return hdr.New(histLowest, histHighest, histDigits) }

func record(h *hdr.Histogram, d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	if us > histHighest {
		us = histHighest
	}
	_ = h.RecordValue(us) // cannot fail: the value is clamped into range
}

// window accumulates the requests of one period: one second of the series,
// or the measured part of the run.
type window struct {
	lat, lag, svc *hdr.Histogram // latency from intended start, scheduling lag, service time
	requests      int64          // completed (successfully or not)
	errors        int64
	violations    int64
	late          int64
	dropped       int64
}

func newWindow() *window {
	return &window{lat: newHist(), lag: newHist(), svc: newHist()}
}

func (w *window) reset() {
	w.lat.Reset()
	w.lag.Reset()
	w.svc.Reset()
	w.requests, w.errors, w.violations, w.late, w.dropped = 0, 0, 0, 0, 0
}

func (w *window) merge(o *window) {
	w.lat.Merge(o.lat)
	w.lag.Merge(o.lag)
	w.svc.Merge(o.svc)
	w.requests += o.requests
	w.errors += o.errors
	w.violations += o.violations
	w.late += o.late
	w.dropped += o.dropped
}

// sample is one completed request as the engine measured it.
type sample struct {
	intended, start, end time.Time
	err                  error
	res                  Result
}

// shard is the histograms of a group of workers: workers record into their
// own shard without contending with the others; the per-second rotation and
// the final report merge the shards. (One histogram set per worker would
// cost ~0.5 MB each at --max-inflight 1000; a shard per CPU keeps memory
// small and independent of the in-flight cap.)
type shard struct {
	mu    sync.Mutex
	sec   *window // the current second
	spare *window // swapped with sec at each rotation
	tot   *window // the measured part of the run
	kinds map[string]int64
	errs  []string
	viols []string
	ops   map[string]int64
}

func newShard() *shard {
	return &shard{sec: newWindow(), spare: newWindow(), tot: newWindow(),
		kinds: map[string]int64{}, ops: map[string]int64{}}
}

// add records one completed request; measured says whether it belongs to
// the measured window (after warm-up, before the end).
func (s *shard) add(x sample, lateAfter time.Duration, measured bool) {
	lat, lag, svc := x.end.Sub(x.intended), x.start.Sub(x.intended), x.end.Sub(x.start)
	late := lag > lateAfter
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range [2]*window{s.sec, s.tot} {
		if w == s.tot && !measured {
			break
		}
		record(w.lat, lat)
		record(w.lag, lag)
		record(w.svc, svc)
		w.requests++
		if x.err != nil {
			w.errors++
		}
		if x.res.Violation != nil {
			w.violations++
		}
		if late {
			w.late++
		}
	}
	if !measured {
		return
	}
	if x.res.Op != "" && (len(s.ops) < maxKinds || s.ops[x.res.Op] > 0) {
		s.ops[x.res.Op]++
	}
	if x.err != nil {
		k := errKind(x.err)
		if len(s.kinds) >= maxKinds && s.kinds[k] == 0 {
			k = "other"
		}
		s.kinds[k]++
		if len(s.errs) < maxSamples {
			s.errs = append(s.errs, x.err.Error())
		}
	}
	if x.res.Violation != nil && len(s.viols) < maxSamples {
		s.viols = append(s.viols, x.res.Violation.Error())
	}
}

// drop records a request that never started.
func (s *shard) drop(measured bool) {
	s.mu.Lock()
	s.sec.dropped++
	if measured {
		s.tot.dropped++
	}
	s.mu.Unlock()
}

// rotate swaps out the current second and returns it; the caller must give
// it back with release after reading it.
func (s *shard) rotate() *window {
	s.mu.Lock()
	w := s.sec
	s.sec = s.spare
	s.spare = nil
	s.mu.Unlock()
	return w
}

func (s *shard) release(w *window) {
	w.reset()
	s.mu.Lock()
	s.spare = w
	s.mu.Unlock()
}
