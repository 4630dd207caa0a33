package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Report is the result of a run. Its JSON form is the stable schema of
// `poolpilot load --json` (documented in docs/loadgen.md); fields are only
// ever added.
type Report struct {
	Model       string  `json:"model"` // "open" or "closed"
	Target      string  `json:"target,omitempty"`
	Workload    string  `json:"workload,omitempty"`
	Schedule    string  `json:"schedule,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`
	MaxInflight int     `json:"max_inflight,omitempty"`
	StartedAt   string  `json:"started_at"`
	WarmupS     float64 `json:"warmup_s"`
	DurationS   float64 `json:"duration_s"`
	Interrupted bool    `json:"interrupted"`

	// TargetRate is the mean scheduled rate over the measured window (0 in
	// the closed model); AchievedRate is the requests completed whose
	// intended start lies in the window, divided by the window.
	TargetRate   float64 `json:"target_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	ErrorRate    float64 `json:"error_rate"`
	Late         int64   `json:"late"`
	Dropped      int64   `json:"dropped"`
	Violations   int64   `json:"violations"`

	LatencyMS Quantiles   `json:"latency_ms"` // from intended start to completion
	ServiceMS Quantiles   `json:"service_ms"` // from actual start to completion
	LagMS     Lag         `json:"lag_ms"`     // actual start minus intended start
	Pool      *PoolReport `json:"pool,omitempty"`

	ErrorKinds       map[string]int64 `json:"error_kinds,omitempty"`
	ErrorSamples     []string         `json:"error_samples,omitempty"`
	ViolationSamples []string         `json:"violation_samples,omitempty"`
	Ops              map[string]int64 `json:"ops,omitempty"`

	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	Series     []Second          `json:"series"`
}

// Quantiles of a latency distribution, in milliseconds.
type Quantiles struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Lag summarises the scheduling lag, in milliseconds.
type Lag struct {
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

// PoolReport is the pool's state over the measured window, from one sample
// a second: the highest acquire-wait p95 and the highest utilization seen.
type PoolReport struct {
	WaitP95MS      float64 `json:"wait_p95_ms"`
	UtilizationMax float64 `json:"utilization_max"`
}

// Second is one second of the series, by completion time.
type Second struct {
	T               int      `json:"t"`         // 1-based second of the run
	Elapsed         float64  `json:"elapsed_s"` // end of this second since the start
	Warmup          bool     `json:"warmup,omitempty"`
	TargetRate      float64  `json:"target_rate,omitempty"`
	Rate            float64  `json:"rate"` // completions per second
	Requests        int64    `json:"requests"`
	Errors          int64    `json:"errors"`
	Violations      int64    `json:"violations"`
	Late            int64    `json:"late"`
	Dropped         int64    `json:"dropped"`
	Inflight        int64    `json:"inflight"`
	P50MS           float64  `json:"p50_ms"`
	P95MS           float64  `json:"p95_ms"`
	P99MS           float64  `json:"p99_ms"`
	MaxMS           float64  `json:"max_ms"`
	LagP95MS        float64  `json:"lag_p95_ms"`
	PoolWaitP95MS   *float64 `json:"pool_wait_p95_ms,omitempty"`
	PoolUtilization *float64 `json:"pool_utilization,omitempty"`
}

func quantiles(h *hdr.Histogram) Quantiles {
	if h.TotalCount() == 0 {
		return Quantiles{}
	}
	return Quantiles{
		P50: ms(h.ValueAtQuantile(50)), P95: ms(h.ValueAtQuantile(95)),
		P99: ms(h.ValueAtQuantile(99)), Max: ms(h.Max()), Mean: round3(h.Mean() / 1000),
	}
}

func (e *engine) report(rot *rotator, end time.Time, interrupted bool) *Report {
	tot := newWindow()
	r := &Report{
		StartedAt:  e.start.UTC().Format(time.RFC3339Nano),
		WarmupS:    e.cfg.Warmup.Seconds(),
		DurationS:  e.cfg.Duration.Seconds(),
		ErrorKinds: map[string]int64{},
		Ops:        map[string]int64{},
		Series:     rot.series,
		Pool:       rot.pool,
	}
	for _, sh := range e.shards {
		sh.mu.Lock()
		tot.merge(sh.tot)
		for k, v := range sh.kinds {
			r.ErrorKinds[k] += v
		}
		for k, v := range sh.ops {
			r.Ops[k] += v
		}
		r.ErrorSamples = appendMax(r.ErrorSamples, sh.errs)
		r.ViolationSamples = appendMax(r.ViolationSamples, sh.viols)
		sh.mu.Unlock()
	}
	window := e.cfg.Duration
	if interrupted && end.Before(e.measTo) { // the window is what ran of it
		window = max(end.Sub(e.measFrom), 0)
	}
	if e.cfg.Schedule != nil {
		r.Model, r.Schedule, r.MaxInflight = "open", e.cfg.Schedule.String(), e.cfg.MaxInflight
		if window > 0 {
			n := e.cfg.Schedule.Count(e.cfg.Warmup+window) - e.cfg.Schedule.Count(e.cfg.Warmup)
			r.TargetRate = round3(n / window.Seconds())
		}
	} else {
		r.Model, r.Concurrency = "closed", e.cfg.Concurrency
	}
	r.Requests, r.Errors, r.Late, r.Dropped, r.Violations = tot.requests, tot.errors, tot.late, tot.dropped, tot.violations
	if window > 0 {
		r.AchievedRate = round3(float64(tot.requests) / window.Seconds())
	}
	if tot.requests > 0 {
		r.ErrorRate = float64(tot.errors) / float64(tot.requests)
	}
	r.LatencyMS, r.ServiceMS = quantiles(tot.lat), quantiles(tot.svc)
	if tot.lag.TotalCount() > 0 {
		r.LagMS = Lag{P95: ms(tot.lag.ValueAtQuantile(95)), Max: ms(tot.lag.Max())}
	}
	if r.Series == nil {
		r.Series = []Second{}
	}
	return r
}

func appendMax(dst, src []string) []string {
	for _, s := range src {
		if len(dst) >= maxSamples {
			break
		}
		dst = append(dst, s)
	}
	return dst
}

// WriteSummary writes the report for humans.
func (r *Report) WriteSummary(w io.Writer) {
	var b strings.Builder
	if r.Target != "" {
		fmt.Fprintf(&b, "target       %s", r.Target)
		if r.Workload != "" {
			fmt.Fprintf(&b, " (workload %s)", r.Workload)
		}
		b.WriteString("\n")
	}
	if r.Model == "open" {
		fmt.Fprintf(&b, "model        open, %s, max in-flight %d, warm-up %gs, measured %gs\n", r.Schedule, r.MaxInflight, r.WarmupS, r.DurationS)
		fmt.Fprintf(&b, "rate         target %.1f/s   achieved %.1f/s\n", r.TargetRate, r.AchievedRate)
	} else {
		fmt.Fprintf(&b, "model        closed, concurrency %d, warm-up %gs, measured %gs\n", r.Concurrency, r.WarmupS, r.DurationS)
		fmt.Fprintf(&b, "rate         achieved %.1f/s\n", r.AchievedRate)
	}
	fmt.Fprintf(&b, "requests     %d   errors %d (%.4f%%)   late %d   dropped %d   violations %d\n",
		r.Requests, r.Errors, 100*r.ErrorRate, r.Late, r.Dropped, r.Violations)
	q := r.LatencyMS
	fmt.Fprintf(&b, "latency ms   p50 %.3f   p95 %.3f   p99 %.3f   max %.3f   (from intended start)\n", q.P50, q.P95, q.P99, q.Max)
	q = r.ServiceMS
	fmt.Fprintf(&b, "service ms   p50 %.3f   p95 %.3f   p99 %.3f   max %.3f   (from actual start)\n", q.P50, q.P95, q.P99, q.Max)
	fmt.Fprintf(&b, "lag ms       p95 %.3f   max %.3f\n", r.LagMS.P95, r.LagMS.Max)
	if r.Pool != nil {
		fmt.Fprintf(&b, "pool         wait p95 %.3f ms (max over seconds)   utilization max %.1f%%\n", r.Pool.WaitP95MS, 100*r.Pool.UtilizationMax)
	}
	for _, k := range slices.Sorted(maps.Keys(r.ErrorKinds)) {
		fmt.Fprintf(&b, "error        %-12s %d\n", k, r.ErrorKinds[k])
	}
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(&b, "  e.g.       %s\n", s)
	}
	for _, s := range r.ViolationSamples {
		fmt.Fprintf(&b, "VIOLATION    %s\n", s)
	}
	for _, t := range r.Thresholds {
		mark := "ok  "
		if !t.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "threshold    %s %s (%s = %s)\n", mark, t.Expr, t.Metric, t.Actual)
	}
	if r.Interrupted {
		b.WriteString("interrupted  the run was stopped before its end\n")
	}
	io.WriteString(w, b.String())
}
