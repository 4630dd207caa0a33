package runner

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/source/health"
)

func succ(name string, st criteria.State, reason string) criteria.Result {
	return criteria.Result{Name: name, Role: poolpilot.RoleSuccess, State: st, Reason: reason}
}

func eval(t0 time.Time, at time.Duration, rs ...criteria.Result) criteria.Evaluation {
	return criteria.Evaluation{Time: t0.Add(at), Results: rs}
}

func TestWatchedTimeCountsOnlyEvaluatedTime(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	w := newWatchedTime(time.Second, 10*time.Second)
	w.prev = t0
	// 1 s steps, then a 5 s hole (more than 3 intervals, less than
	// max_inconclusive), then 1 s steps with one inconclusive evaluation.
	steps := []struct {
		at time.Duration
		st criteria.State
	}{{1 * time.Second, criteria.StateOK}, {2 * time.Second, criteria.StateOK}, {7 * time.Second, criteria.StateOK},
		{8 * time.Second, criteria.StateInconclusive}, {9 * time.Second, criteria.StateOK}}
	for _, s := range steps {
		if failed, why := w.tick(eval(t0, s.at, succ("a", s.st, ""))); failed {
			t.Fatalf("at %s: failed: %s", s.at, why)
		}
	}
	if w.watched != 4*time.Second {
		t.Errorf("watched %s, want 4s (the 5 s hole is not watched)", w.watched)
	}
	if len(w.gaps) != 1 || w.gaps[0].Seconds != 5 {
		t.Errorf("gaps %+v, want one of 5 s", w.gaps)
	}
	cov := w.coverage(nil, 0)
	if len(cov) != 1 || cov[0].ConclusiveSeconds != 3 || cov[0].Ratio != 0.75 {
		t.Errorf("coverage %+v, want 3 s of 4 s conclusive", cov)
	}
	// A hole longer than max_inconclusive fails.
	if failed, why := w.tick(eval(t0, 25*time.Second, succ("a", criteria.StateOK, ""))); !failed || !strings.Contains(why, "no evaluation for 16.0 s") {
		t.Errorf("a 16 s hole with max_inconclusive 10 s: failed=%v %q", failed, why)
	}
}

func TestWatchedTimeFiringForInconclusiveIsNotConclusive(t *testing.T) {
	if conclusive(succ("a", criteria.StateFiring, "inconclusive for 60s (max_inconclusive 60s): data gap")) {
		t.Error("firing for lack of data counted as conclusive")
	}
	if !conclusive(succ("a", criteria.StateFiring, "error_rate 0.2 violates error_rate < 0.1")) {
		t.Error("firing on a breach not counted as conclusive")
	}
}

func TestEndVerdict(t *testing.T) {
	ok := &criteria.Evaluation{Results: []criteria.Result{succ("a", criteria.StateOK, ""), succ("b", criteria.StateOK, "")}}
	full := []evidence.CriterionCoverage{{Name: "a", ConclusiveSeconds: 10, WatchedSeconds: 10, Ratio: 1}, {Name: "b", ConclusiveSeconds: 9.5, WatchedSeconds: 10, Ratio: 0.95}}
	cases := []struct {
		name       string
		last       *criteria.Evaluation
		unanswered []string
		cov        []evidence.CriterionCoverage
		want       string // "" for success
	}{
		{"all held", ok, nil, full, ""},
		{"no evaluation", nil, nil, full, "no evaluation"},
		{"inconclusive at the end", &criteria.Evaluation{Results: []criteria.Result{succ("a", criteria.StateOK, ""), succ("b", criteria.StateInconclusive, "data gap")}}, nil, full, "b was inconclusive at the soak's last evaluation"},
		{"pending at the end", &criteria.Evaluation{Results: []criteria.Result{succ("a", criteria.StatePending, "x")}}, nil, full, "a was pending"},
		{"an instance did not answer", ok, []string{"instance-2: connection refused"}, full, "instance-2: connection refused"},
		{"coverage below", ok, nil, []evidence.CriterionCoverage{{Name: "b", ConclusiveSeconds: 6, WatchedSeconds: 10, Ratio: 0.6}}, "b was conclusive for 6.0 s of 10.0 s watched (60 %, below min_coverage 90 %)"},
	}
	for _, c := range cases {
		v := endVerdict(c.last, c.unanswered, c.cov, 0.9)
		if c.want == "" {
			if v.Rollback {
				t.Errorf("%s: rollback %q, want success", c.name, v.Reason)
			}
			continue
		}
		if !v.Rollback || !strings.Contains(v.Reason, c.want) {
			t.Errorf("%s: rollback=%v %q, want a rollback saying %q", c.name, v.Rollback, v.Reason, c.want)
		}
	}
}

func TestClientViewFoldsIntoServiceSamples(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	v := newClientView(10 * time.Second)
	v.now = func() time.Time { return now }
	refused := &loadgen.StatusError{Code: 503}
	for i := range 10 {
		var err error
		if i%2 == 0 {
			err = refused
		}
		v.record("a:1", now.Add(-time.Second), 20*time.Millisecond, err)
	}
	// Our own cancelled requests, 4xx and 404s are not the service's failures.
	v.record("a:1", now, time.Millisecond, context.Canceled)
	v.record("a:1", now, time.Millisecond, &loadgen.StatusError{Code: 409})
	v.record("a:1", now, time.Millisecond, loadgen.ErrLedgerNotFound)
	svc := poolpilot.Sample{Metric: "error_rate", Instance: "a:1", Value: 0.01, Source: health.Name}
	got := v.transform(svc)
	if got.Source != SourceClient || got.Value != 5.0/12 {
		t.Errorf("error_rate: %+v, want the client's 5/12 (worse than the service's 1 %%)", got)
	}
	gap := poolpilot.Sample{Metric: "latency_p95_ms", Instance: "a:1", Gap: true, Reason: "connection refused", Source: health.Name}
	if got := v.transform(gap); got.Gap || got.Value != 20 {
		t.Errorf("a gap with client data: %+v, want the client's p95 20 ms", got)
	}
	if got := v.transform(poolpilot.Sample{Metric: "error_rate", Instance: "b:2", Value: 0.5, Source: health.Name}); got.Value != 0.5 || got.Source != health.Name {
		t.Errorf("an instance without client data changed: %+v", got)
	}
	if got := v.transform(poolpilot.Sample{Metric: "pool.max", Instance: "a:1", Value: 7, Source: health.Name}); got.Value != 7 {
		t.Errorf("pool.max changed: %+v", got)
	}
	// A dead instance: every request refused.
	dead := newClientView(10 * time.Second)
	for range 5 {
		dead.record("d:3", time.Now(), time.Millisecond, syscall.ECONNREFUSED)
	}
	if got := dead.transform(poolpilot.Sample{Metric: "error_rate", Instance: "d:3", Gap: true, Source: health.Name}); got.Gap || got.Value != 1 {
		t.Errorf("dead instance: %+v, want error_rate 1", got)
	}
	if !failed(syscall.ECONNREFUSED) || !failed(context.DeadlineExceeded) {
		t.Error("a refused connection is not a failure")
	}
}
