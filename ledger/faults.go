package ledger

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// MaxExtraLatency caps the injected latency.
const MaxExtraLatency = 60 * time.Second

// FaultSettings make the service sick on purpose, for drills: ErrorRate is
// the share of /v1 requests answered with 500 (0 to 1), ExtraLatencyMS the
// delay added before every /v1 request is served.
type FaultSettings struct {
	ErrorRate      float64 `json:"error_rate"`
	ExtraLatencyMS int64   `json:"extra_latency_ms"`
	// LatencyAboveMax, when above 0, adds ExtraLatencyMS only while the
	// pool's max is above it: a service that slows down past a pool size
	// (staircase drills and tests).
	LatencyAboveMax int `json:"latency_above_max,omitempty"`
}

// Validate names the field that is out of range.
func (s FaultSettings) Validate() error {
	if math.IsNaN(s.ErrorRate) || s.ErrorRate < 0 || s.ErrorRate > 1 {
		return fmt.Errorf("error_rate %v is out of range: use a number from 0 to 1", s.ErrorRate)
	}
	if s.ExtraLatencyMS < 0 || s.ExtraLatencyMS > MaxExtraLatency.Milliseconds() {
		return fmt.Errorf("extra_latency_ms %d is out of range: use 0 to %d", s.ExtraLatencyMS, MaxExtraLatency.Milliseconds())
	}
	if s.LatencyAboveMax < 0 {
		return fmt.Errorf("latency_above_max %d is out of range: use 0 (always) or a pool max", s.LatencyAboveMax)
	}
	return nil
}

// FaultStatus is the body of GET and PUT /admin/faults: the settings plus
// counters since start. InFlight is the number of /v1 requests being served
// right now (delayed ones included).
type FaultStatus struct {
	FaultSettings
	Active         bool  `json:"active"`
	InFlight       int64 `json:"in_flight"`
	InjectedErrors int64 `json:"injected_errors"`
	Delayed        int64 `json:"delayed"`
}

// Faults injects errors and latency into the /v1 API. The zero value is not
// usable; call NewFaults.
type Faults struct {
	log *slog.Logger
	// PoolMax, if set, reads the pool's max for LatencyAboveMax; without
	// it the latency applies whatever the pool.
	PoolMax func() int

	mu       sync.Mutex
	settings FaultSettings
	rng      *rand.Rand

	inFlight atomic.Int64
	injected atomic.Int64
	delayed  atomic.Int64
}

// NewFaults returns an injector with no fault active. seed makes the
// sequence of injected errors reproducible; logger (nil: discard) gets a
// line per change.
func NewFaults(seed uint64, logger *slog.Logger) *Faults {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Faults{log: logger, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Set replaces the settings; {0, 0} clears every fault.
func (f *Faults) Set(s FaultSettings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	f.settings = s
	f.mu.Unlock()
	f.log.Warn("fault injection changed", "error_rate", s.ErrorRate, "extra_latency_ms", s.ExtraLatencyMS, "latency_above_max", s.LatencyAboveMax)
	return nil
}

// Status returns the settings and counters.
func (f *Faults) Status() FaultStatus {
	f.mu.Lock()
	s := f.settings
	f.mu.Unlock()
	return FaultStatus{
		FaultSettings:  s,
		Active:         s.ErrorRate > 0 || s.ExtraLatencyMS > 0,
		InFlight:       f.inFlight.Load(),
		InjectedErrors: f.injected.Load(),
		Delayed:        f.delayed.Load(),
	}
}

// decide returns the delay and whether this request fails.
func (f *Faults) decide() (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fail := f.settings.ErrorRate > 0 && f.rng.Float64() < f.settings.ErrorRate
	delay := time.Duration(f.settings.ExtraLatencyMS) * time.Millisecond
	if above := f.settings.LatencyAboveMax; above > 0 && f.PoolMax != nil && f.PoolMax() <= above {
		delay = 0
	}
	return delay, fail
}

// Wrap applies the faults to next: the delay first, then the error. An
// injected error is a 500 {"error":"injected fault…","fault":true} with the
// header X-Ledgerd-Fault: injected, so that drills can tell it from a real
// failure.
func (f *Faults) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		delay, fail := f.decide()
		if delay > 0 {
			f.delayed.Add(1)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				WriteError(w, http.StatusServiceUnavailable, "request cancelled during injected latency")
				return
			}
		}
		if fail {
			f.injected.Add(1)
			w.Header().Set("X-Ledgerd-Fault", "injected")
			WriteJSON(w, http.StatusInternalServerError, map[string]any{
				"error": "injected fault (PUT /admin/faults error_rate)", "fault": true})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Handler serves GET /admin/faults (current status) and PUT /admin/faults
// (body FaultSettings; 400 on a bad body). Put it behind the admin token.
func (f *Faults) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/faults", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, f.Status())
	})
	mux.HandleFunc("PUT /admin/faults", func(w http.ResponseWriter, r *http.Request) {
		var s FaultSettings
		if status, err := decodeJSON(w, r, &s); err != nil {
			WriteError(w, status, err.Error())
			return
		}
		if err := f.Set(s); err != nil {
			WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		WriteJSON(w, http.StatusOK, f.Status())
	})
	mux.HandleFunc("/admin/faults", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, PUT")
		WriteError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on /admin/faults: use GET or PUT", r.Method))
	})
	return mux
}
