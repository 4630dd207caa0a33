package runner

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/loadgen"
)

// TestStoppingLoadDoesNotHangUpOnTheService: stopping a background load
// lets its requests in flight finish, so the service never sees a client
// hang up (which ledgerd answers with a 503 that counts as an error); the
// run's own context ending still cancels them.
func TestStoppingLoadDoesNotHangUpOnTheService(t *testing.T) {
	var started, hungUp, served atomic.Int64
	inFlight := make(chan struct{}, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		inFlight <- struct{}{}
		select {
		case <-time.After(100 * time.Millisecond):
			served.Add(1)
		case <-r.Context().Done():
			hungUp.Add(1)
		}
	}))
	defer srv.Close()
	client := loadgen.NewHTTPClient(64)
	defer client.CloseIdleConnections()
	get := loadgen.TargetFunc(func(ctx context.Context) (loadgen.Result, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			return loadgen.Result{}, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return loadgen.Result{}, err
		}
		return loadgen.Result{}, resp.Body.Close()
	})
	sched, err := loadgen.Constant(100)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadgen.Config{Schedule: sched, Duration: time.Minute, Timeout: 10 * time.Second, MaxInflight: 100}
	run := func(parent context.Context, stopAfter func()) {
		lr := runLoad(parent, cfg, get, "test", func() {})
		stopAfter()
		lr.stop()
	}

	// Stop while requests are in flight (each takes 100 ms at 100/s).
	run(context.Background(), func() {
		for range 5 {
			<-inFlight
		}
	})
	if n := hungUp.Load(); n != 0 || served.Load() != started.Load() {
		t.Errorf("stopping the load hung up on %d of %d requests (served %d)", n, started.Load(), served.Load())
	}

	// The run's context ending cancels the requests in flight at once.
	parent, cancel := context.WithCancel(context.Background())
	t0 := time.Now()
	run(parent, func() {
		<-inFlight
		cancel()
	})
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("a cancelled run waited %s for its requests", d)
	}
}

// TestStoppingLoadBoundsTheDrain: a hung service does not hold up stop (and
// so a rollback) for longer than drainGrace.
func TestStoppingLoadBoundsTheDrain(t *testing.T) {
	arrived := make(chan struct{}, 100)
	hung := loadgen.TargetFunc(func(ctx context.Context) (loadgen.Result, error) {
		arrived <- struct{}{}
		<-ctx.Done() // a request that only ends when cancelled
		return loadgen.Result{}, ctx.Err()
	})
	sched, err := loadgen.Constant(50)
	if err != nil {
		t.Fatal(err)
	}
	lr := runLoad(context.Background(), loadgen.Config{Schedule: sched, Duration: time.Minute, Timeout: time.Minute, MaxInflight: 100}, hung, "hung", func() {})
	<-arrived
	t0 := time.Now()
	lr.stop()
	if d := time.Since(t0); d < drainGrace/2 || d > drainGrace+5*time.Second {
		t.Errorf("stop took %s with a hung request, want about drainGrace (%s)", d, drainGrace)
	}
}
