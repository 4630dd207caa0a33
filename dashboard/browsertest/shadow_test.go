package browsertest

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/dashboard"
	"github.com/poolpilot/poolpilot/monitor"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/source"
	"github.com/poolpilot/poolpilot/source/health"
)

// shadow feeds the dashboard's Observer from a run through what
// runner.Options offers without the Observer hook: OnState for the states
// (the first call finds the run folder), a second criteria engine on the
// same /healthz sources for the evaluations, and the result for the end.
// It stands in until runner.Options.Observer exists.
type shadow struct {
	live    *dashboard.Live
	p       *plan.Plan
	evDir   string
	once    sync.Once
	cancel  context.CancelFunc
	stopped chan struct{}
}

func (s *shadow) onState(st change.State) {
	s.once.Do(func() {
		ms, _ := filepath.Glob(filepath.Join(s.evDir, s.p.Name, "*", "audit.jsonl"))
		if len(ms) == 0 {
			return
		}
		dir := filepath.Dir(ms[0])
		s.live.Started(s.p, filepath.Base(dir), dir)
		s.startEngine()
	})
	s.live.State(st, time.Now())
}

func (s *shadow) startEngine() {
	var urls []string
	for _, in := range s.p.Instances {
		urls = append(urls, in.HealthURL)
	}
	interval := s.p.Evaluation.Interval.D()
	hs, err := health.New(urls, health.Options{Timeout: interval * 8 / 10})
	if err != nil {
		return
	}
	eng, err := criteria.New(s.p.Criteria, criteria.Options{Interval: interval, MaxInconclusive: s.p.Evaluation.MaxInconclusive.D(),
		SuccessWindow: s.p.Soak.Duration.D()})
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.stopped = cancel, make(chan struct{})
	m := monitor.Start(ctx, eng, []source.Source{hs}, monitor.Options{Interval: interval})
	go func() {
		defer close(s.stopped)
		defer m.Stop()
		_ = m.Run(ctx, 0, func(ev criteria.Evaluation) bool { s.live.Evaluation(ev); return false })
	}()
}

func (s *shadow) ended(st change.State, reason string) {
	if s.cancel != nil {
		s.cancel()
		<-s.stopped
	}
	s.live.Ended(st, reason, time.Now())
}
