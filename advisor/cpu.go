package advisor

import (
	"context"
	"time"
)

// cpuWindow reads a CPU meter at the end of a step's warm-up and at its
// end, so that the rate covers the measured window.
type cpuWindow struct {
	meter  CPUMeter
	cancel context.CancelFunc
	opened chan struct{}
}

func newCPUWindow(ctx context.Context, m CPUMeter, warmup time.Duration) *cpuWindow {
	w := &cpuWindow{meter: m, opened: make(chan struct{})}
	if m == nil {
		close(w.opened)
		return w
	}
	wctx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	go func() {
		defer close(w.opened)
		t := time.NewTimer(warmup)
		defer t.Stop()
		select {
		case <-t.C:
		case <-wctx.Done():
		}
		_, _ = m.Collect(context.WithoutCancel(wctx)) // the first reading opens the window
	}()
	return w
}

// stop abandons the window.
func (w *cpuWindow) stop() {
	if w.cancel != nil {
		w.cancel()
	}
	<-w.opened
}

// finish takes the closing reading and returns the share of the cores the
// database used over the window, or nil when it could not be measured.
func (w *cpuWindow) finish(ctx context.Context) *float64 {
	w.stop()
	if w.meter == nil {
		return nil
	}
	ss, err := w.meter.Collect(ctx)
	if err != nil || len(ss) == 0 || ss[0].Gap {
		return nil
	}
	v := ss[0].Value
	return &v
}
