package runner

import (
	"errors"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/source/health"
)

// An evaluation asks for four metrics of an instance in a row: the window
// is summarised once; a new request, or time passing, is seen at once.
func TestClientStatsCachedWithinAnEvaluation(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	v := newClientView(10 * time.Second)
	v.now = func() time.Time { return now }
	for i := range 10 {
		v.record("a:1", now, time.Duration(i+1)*time.Millisecond, nil)
	}
	st, ok := v.stats("a:1", true)
	if !ok || st.requests != 10 || st.errors != 0 || st.p95 != 10 {
		t.Fatalf("first: %+v ok=%v", st, ok)
	}
	// Four reads of the same instance at the same moment: one summary.
	v.mu.Lock()
	c := v.cache["shared+a:1"]
	v.mu.Unlock()
	for range 3 {
		if again, _ := v.stats("a:1", true); again != st {
			t.Fatalf("cached read %+v, want %+v", again, st)
		}
	}
	v.mu.Lock()
	if v.cache["shared+a:1"] != c {
		t.Errorf("the cache entry was recomputed without a new request: %+v then %+v", c, v.cache["shared+a:1"])
	}
	v.mu.Unlock()
	// A new request (a failure) is in the next read.
	v.record("a:1", now, 500*time.Millisecond, errors.New("connection refused"))
	st, _ = v.stats("a:1", true)
	if st.requests != 11 || st.errors != 1 || st.p99 != 500 {
		t.Errorf("after a failed request: %+v", st)
	}
	// Time passing past the window empties it, cache or not.
	now = now.Add(11 * time.Second)
	if st, ok := v.stats("a:1", true); ok || st.requests != 0 {
		t.Errorf("after the window: %+v ok=%v", st, ok)
	}
}

// A load test through a load balancer (a host:port that is no instance)
// counts for every instance: its failures make each instance's error rate
// worse, but it never stands in for an instance's missing report — the
// balancer may have answered from the others.
func TestLoadBalancerRequestsCountForEveryInstance(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	v := newClientView(10 * time.Second)
	v.now = func() time.Time { return now }
	v.share("lb:80")
	for i := range 10 {
		var err error
		if i < 3 {
			err = &loadgen.StatusError{Code: 502}
		}
		v.record("lb:80", now, 40*time.Millisecond, err)
	}
	for _, in := range []string{"a:1", "b:2"} {
		got := v.transform(poolpilot.Sample{Metric: poolpilot.MetricErrorRate, Instance: in, Value: 0.001, Source: health.Name})
		if got.Source != SourceClient || got.Value != 0.3 {
			t.Errorf("%s error_rate %+v, want the balancer's 30 %%", in, got)
		}
		got = v.transform(poolpilot.Sample{Metric: poolpilot.MetricLatencyP95, Instance: in, Value: 900, Source: health.Name})
		if got.Source != health.Name || got.Value != 900 {
			t.Errorf("%s p95 %+v: the service's worse 900 ms must stand", in, got)
		}
		gap := poolpilot.Sample{Metric: poolpilot.MetricErrorRate, Instance: in, Gap: true, Reason: "connection refused", Source: health.Name}
		if got := v.transform(gap); !got.Gap {
			t.Errorf("%s: the balancer's answers stood in for a missing report: %+v", in, got)
		}
	}
	tot := v.take()
	if len(tot) != 1 || tot[0].Instance != "lb:80" || !tot[0].Shared || tot[0].Requests != 10 || tot[0].Failures != 3 {
		t.Errorf("totals %+v, want lb:80 shared, 10 requests, 3 failures", tot)
	}
	// Requests sent to an instance itself still stand in for its gap.
	for range 5 {
		v.record("a:1", now, time.Millisecond, nil)
	}
	if got := v.transform(poolpilot.Sample{Metric: poolpilot.MetricErrorRate, Instance: "a:1", Gap: true, Source: health.Name}); got.Gap || got.Value != 0 {
		t.Errorf("a:1's own requests did not stand in for its gap: %+v", got)
	}
}
