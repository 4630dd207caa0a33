package httpapi

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/poolpilot/poolpilot"
)

// Latencies are recorded in microseconds from 1 µs to 1 h with two
// significant digits (at most 1% error on any percentile); longer requests
// are recorded as 1 h.
const (
	histLowestUS  = 1
	histHighestUS = int64(time.Hour / time.Microsecond)
	histSigFigs   = 2
	windowSlots   = 30
)

// requestWindow keeps request statistics over a sliding window: a ring of
// windowSlots time slots, each with its own counts and latency histogram.
// A slot belongs to the epoch now/slotDur; a snapshot merges the slots of
// the last windowSlots epochs, so it covers between window−slotDur and
// window of history.
type requestWindow struct {
	clock   poolpilot.Clock
	window  time.Duration
	slotDur time.Duration

	mu     sync.Mutex
	slots  [windowSlots]windowSlot
	merged *hdrhistogram.Histogram // scratch for snapshots, guarded by mu
}

type windowSlot struct {
	epoch  int64
	total  int64
	errors int64
	hist   *hdrhistogram.Histogram
}

func newRequestWindow(clock poolpilot.Clock, window time.Duration) *requestWindow {
	slotDur := window / windowSlots
	if slotDur <= 0 {
		slotDur = 1
	}
	w := &requestWindow{clock: clock, window: window, slotDur: slotDur,
		merged: hdrhistogram.New(histLowestUS, histHighestUS, histSigFigs)}
	for i := range w.slots {
		w.slots[i].epoch = -1
	}
	return w
}

func (w *requestWindow) epoch(t time.Time) int64 {
	return t.UnixNano() / int64(w.slotDur)
}

// record adds one request that took d; isErr marks a 5xx answer.
func (w *requestWindow) record(d time.Duration, isErr bool) {
	us := d.Microseconds()
	if us < histLowestUS {
		us = histLowestUS
	}
	if us > histHighestUS {
		us = histHighestUS
	}
	e := w.epoch(w.clock.Now())
	w.mu.Lock()
	defer w.mu.Unlock()
	s := &w.slots[mod(e, windowSlots)]
	if s.epoch != e {
		if s.hist == nil {
			s.hist = hdrhistogram.New(histLowestUS, histHighestUS, histSigFigs)
		} else {
			s.hist.Reset()
		}
		s.epoch, s.total, s.errors = e, 0, 0
	}
	s.total++
	if isErr {
		s.errors++
	}
	_ = s.hist.RecordValue(us) // in range by construction
}

// snapshot summarises the slots still inside the window.
func (w *requestWindow) snapshot() poolpilot.RequestStats {
	e := w.epoch(w.clock.Now())
	st := poolpilot.RequestStats{WindowSeconds: w.window.Seconds()}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.merged.Reset()
	for i := range w.slots {
		s := &w.slots[i]
		if s.epoch < 0 || s.epoch > e || s.epoch <= e-windowSlots || s.total == 0 {
			continue
		}
		st.Total += s.total
		st.Errors += s.errors
		w.merged.Merge(s.hist)
	}
	if st.Total == 0 {
		return st
	}
	st.ErrorRate = float64(st.Errors) / float64(st.Total)
	st.LatencyP50MS = usToMS(w.merged.ValueAtQuantile(50))
	st.LatencyP95MS = usToMS(w.merged.ValueAtQuantile(95))
	st.LatencyP99MS = usToMS(w.merged.ValueAtQuantile(99))
	return st
}

func usToMS(us int64) float64 { return float64(us) / 1000 }

func mod(a, n int64) int64 {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}
