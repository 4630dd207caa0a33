package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/monitor"
)

// violationCounter accumulates the load generator's violations between
// evaluations.
type violationCounter struct {
	mu sync.Mutex
	n  int64
}

func (v *violationCounter) add(n int64) { v.mu.Lock(); v.n += n; v.mu.Unlock() }
func (v *violationCounter) take() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := v.n
	v.n = 0
	return n
}

// ensureMonitor starts the sources and the criteria engine once per process.
func (r *runner) ensureMonitor(ctx context.Context) (*monitor.Monitor, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mon != nil {
		return r.mon, nil
	}
	interval := r.p.Evaluation.Interval.D()
	set, err := r.sources(ctx, interval)
	if err != nil {
		return nil, err
	}
	kept, err := r.feedable(set)
	if err != nil {
		return nil, err
	}
	kept = r.unfedOptional(ctx, kept)
	eng, err := criteria.New(kept, criteria.Options{Interval: interval, MaxInconclusive: r.p.Evaluation.MaxInconclusive.D(),
		SuccessWindow: max(r.p.Soak.Duration.D(), interval), BaselineWindow: r.p.Baseline.Duration.D() + 3*interval})
	if err != nil {
		return nil, err
	}
	if r.base != nil {
		for k, v := range r.base.Baselines {
			eng.SetBaseline(k, v)
		}
	}
	var once sync.Map
	var m *monitor.Monitor
	m = monitor.Start(ctx, eng, set.Sources, monitor.Options{Interval: interval, Transform: r.cv.transform, OnError: func(err error) {
		if _, seen := once.LoadOrStore(err.Error(), true); !seen {
			r.logf("source: %s", short(err.Error(), 200))
		}
	}, BeforeEvaluate: func() {
		m.Observe(poolpilot.Sample{Metric: poolpilot.MetricViolations, Instance: "loadgen", Time: time.Now(), Value: float64(r.viol.take()), Source: "loadgen"})
	}})
	r.mon = m
	if r.o.ResumeDir != "" {
		r.restoreSamples(m)
	}
	return m, nil
}

// sources builds the plan's sources (assemble.Sources, as watch does);
// they are closed with the run.
func (r *runner) sources(ctx context.Context, interval time.Duration) (*assemble.SourceSet, error) {
	set, err := assemble.Sources(ctx, r.p, r.getenv, assemble.Options{Interval: interval, AppName: "poolpilot-run", Pushed: []string{poolpilot.MetricViolations}})
	if err != nil {
		return nil, err
	}
	r.closers = append(r.closers, set.Close)
	return set, nil
}

// feedable returns the criteria the sources can feed. One that no source
// feeds is refused (preflight's criteria_sources check refuses it before
// the run starts; this holds when the sources changed since) unless it is
// optional: then it is skipped with a warning event.
func (r *runner) feedable(set *assemble.SourceSet) ([]poolpilot.CriterionSpec, error) {
	kept, unfed, err := set.Split(r.p.Criteria)
	if err != nil {
		return nil, err
	}
	var refused []string
	for _, u := range unfed {
		if !u.Optional {
			refused = append(refused, u.String())
			continue
		}
		r.event(evidence.CriterionSkipped{Name: u.Name, Metric: u.Metric, Reason: u.Reason, Optional: true})
		r.logf("warning: optional criterion %s skipped: metric %s: %s", u.Name, u.Metric, u.Reason)
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("no source can feed %s; feed them or mark them optional: true", strings.Join(refused, "; "))
	}
	return kept, nil
}

// snapshot is every instance's /healthz at a moment, and the database's
// newest statistics.
type snapshot struct {
	time      time.Time
	instances []evidence.InstanceHealth
	db        *evidence.DatabaseStats
}

func (r *runner) snapshot(ctx context.Context) *snapshot {
	s := &snapshot{time: r.clock.Now().UTC()}
	pr := r.ctl.Prober
	for _, in := range r.p.Instances {
		ih := evidence.InstanceHealth{Name: in.Name, URL: in.HealthURL}
		h, err := pr.Health(ctx, in)
		ih.Health = h
		if err != nil {
			ih.Error = err.Error()
		}
		s.instances = append(s.instances, ih)
	}
	if r.mon != nil {
		s.db = r.dbStats()
	}
	return s
}

func (r *runner) dbStats() *evidence.DatabaseStats {
	one := func(metric string) (float64, bool) {
		for _, smp := range r.mon.Latest(metric) {
			if !smp.Gap {
				return smp.Value, true
			}
		}
		return 0, false
	}
	total, ok := one(poolpilot.MetricDBConnections)
	if !ok {
		return nil
	}
	d := &evidence.DatabaseStats{Connections: int(total), ByState: map[string]int{}, ByApplication: map[string]int{}}
	if v, ok := one(poolpilot.MetricDBMaxConnections); ok {
		d.MaxConnections = int(v)
	}
	if v, ok := one(poolpilot.MetricDBReservedConnections); ok {
		d.SuperuserReserved = int(v)
	}
	for _, st := range []string{"active", "idle", "idle_in_transaction"} {
		if v, ok := one("db.connections." + st); ok {
			d.ByState[st] = int(v)
		}
	}
	for app, smp := range r.mon.Latest(poolpilot.MetricDBConnectionsByApp) {
		if !smp.Gap {
			d.ByApplication[app] = int(smp.Value)
		}
	}
	if v, ok := one(poolpilot.MetricDBCPU); ok {
		pct := v * 100
		d.CPUPercent = &pct
	}
	return d
}

// fleet aggregates the instances' request stats (sums, highest
// percentiles) and pool figures.
func (s *snapshot) fleet() evidence.Aggregate {
	var a evidence.Aggregate
	for _, ih := range s.instances {
		if ih.Error != "" {
			continue
		}
		if rq := ih.Health.Requests; rq != nil {
			a.Requests += rq.Total
			a.Errors += rq.Errors
			a.LatencyP50MS = max(a.LatencyP50MS, rq.LatencyP50MS)
			a.LatencyP95MS = max(a.LatencyP95MS, rq.LatencyP95MS)
			a.LatencyP99MS = max(a.LatencyP99MS, rq.LatencyP99MS)
		}
		p := ih.Health.Pool
		if p.Max > 0 {
			a.Utilization = max(a.Utilization, float64(p.Acquired)/float64(p.Max))
		}
		a.WaitP95MS = max(a.WaitP95MS, p.WaitP95MS)
	}
	if a.Requests > 0 {
		a.ErrorRate = float64(a.Errors) / float64(a.Requests)
	}
	return a
}

// unanswered names the instances whose probe failed, with why.
func (s *snapshot) unanswered() []string {
	var out []string
	for _, ih := range s.instances {
		if ih.Error != "" {
			out = append(out, ih.Name+": "+ih.Error)
		}
	}
	return out
}

func (s *snapshot) latency() evidence.LatencyStats {
	a := s.fleet()
	return evidence.LatencyStats{Requests: a.Requests, P50MS: a.LatencyP50MS, P95MS: a.LatencyP95MS, P99MS: a.LatencyP99MS}
}

func (s *snapshot) window() float64 {
	w := 0.0
	for _, ih := range s.instances {
		if rq := ih.Health.Requests; rq != nil {
			w = max(w, rq.WindowSeconds)
		}
	}
	return w
}
