package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/loadgen"
)

// roundRobin spreads the ledger workload over every instance (they share
// one database, so a balance read on one sees a post made on another).
type roundRobin struct {
	apis []loadgen.Ledger
	n    atomic.Uint64
}

func (rr *roundRobin) next() loadgen.Ledger { return rr.apis[rr.n.Add(1)%uint64(len(rr.apis))] }

func (rr *roundRobin) PostEntry(ctx context.Context, tenant, d string, lines []loadgen.LedgerLine) error {
	return rr.next().PostEntry(ctx, tenant, d, lines)
}
func (rr *roundRobin) Balance(ctx context.Context, tenant, account string) (loadgen.LedgerBalance, error) {
	return rr.next().Balance(ctx, tenant, account)
}
func (rr *roundRobin) TrialBalance(ctx context.Context, tenant string) (loadgen.LedgerTrialBalance, error) {
	return rr.next().TrialBalance(ctx, tenant)
}

// target builds the plan's workload; nil for workload none.
func (r *runner) target(ctx context.Context, client *http.Client) (loadgen.Target, string, error) {
	lt := r.p.LoadTest
	switch lt.Workload {
	case "ledger":
		rr := &roundRobin{}
		for _, in := range r.p.Instances {
			u, err := url.Parse(in.HealthURL)
			if err != nil {
				return nil, "", err
			}
			api, err := loadgen.NewLedgerHTTP(u.Scheme+"://"+u.Host, client)
			if err != nil {
				return nil, "", err
			}
			rr.apis = append(rr.apis, recordingLedger{Ledger: api, instance: u.Host, view: r.cv})
		}
		w, err := loadgen.NewLedgerWorkload(rr, loadgen.LedgerOptions{Tenants: 10, Accounts: 4})
		return w, "ledgerd over HTTP, every instance", err
	case "http":
		t, err := loadgen.NewHTTPTarget(loadgen.HTTPRequest{URL: lt.URL}, client)
		if err != nil {
			return nil, "", err
		}
		k := instanceKey(lt.URL)
		for _, in := range r.p.Instances {
			if instanceKey(in.HealthURL) == k {
				return recordingTarget{Target: t, instance: k, view: r.cv}, lt.URL, nil
			}
		}
		// Not one of the instances: a load balancer in front of them. Its
		// answers cannot be pinned to an instance, so they count for each.
		r.cv.share(k)
		return recordingTarget{Target: t, instance: k, view: r.cv}, lt.URL + " (through a load balancer: its errors and latency count for every instance)", nil
	case "select1":
		t, closeIt, err := assemble.SelectTarget(ctx, r.getenv(r.p.Database.DSNEnv))
		if err != nil {
			return nil, "", err
		}
		r.closers = append(r.closers, closeIt)
		return t, "SELECT 1 on " + r.p.Database.DSNEnv, nil
	}
	return nil, "", nil
}

// loadRun is a load generator running in the background.
type loadRun struct {
	cancel context.CancelFunc // stops sending
	hard   context.CancelFunc // cancels the requests in flight
	done   chan struct{}
	rep    *loadgen.Report
	err    error
	target string
}

// startLoad runs the plan's workload at rate for d, counting violations
// for the engine. It returns nil when there is nothing to run.
func (r *runner) startLoad(ctx context.Context, rate float64, d time.Duration) (*loadRun, error) {
	if rate <= 0 || d <= 0 || r.p.LoadTest.Workload == "none" {
		return nil, nil
	}
	client := loadgen.NewHTTPClient(256)
	t, name, err := r.target(ctx, client)
	if err != nil || t == nil {
		return nil, err
	}
	sched, err := loadgen.Constant(rate)
	if err != nil {
		return nil, err
	}
	cfg := loadgen.Config{Schedule: sched, Duration: d, MaxInflight: r.p.LoadTest.MaxInflight, Timeout: 10 * time.Second,
		OnSecond: func(s loadgen.Second) { r.viol.add(s.Violations) }}
	return runLoad(ctx, cfg, t, name, client.CloseIdleConnections), nil
}

// runLoad runs cfg against t in the background until stop (or its end).
func runLoad(ctx context.Context, cfg loadgen.Config, t loadgen.Target, name string, cleanup func()) *loadRun {
	hard, hardStop := context.WithCancel(ctx)
	lctx, cancel := context.WithCancel(ctx)
	lr := &loadRun{cancel: cancel, hard: hardStop, done: make(chan struct{}), target: name}
	go func() {
		defer close(lr.done)
		defer cleanup()
		lr.rep, lr.err = loadgen.Run(lctx, cfg, drainOnStop{Target: t, parent: hard})
	}()
	return lr
}

// drainOnStop runs each request under the run's context (parent) with the
// engine's per-request deadline, instead of under the load's own context:
// stopping the load (the end of the baseline, the soak, the load test)
// stops sending and lets the requests in flight finish, bounded by their
// timeout. Cancelling them would make the service answer a client that
// hung up — ledgerd counts that as a 5xx, so poolpilot's own background
// load would raise the error rate that its rollback triggers watch. The
// run's context ending (Ctrl-C, rollback) still cancels them at once.
type drainOnStop struct {
	loadgen.Target
	parent context.Context
}

func (d drainOnStop) Do(ctx context.Context) (loadgen.Result, error) {
	c, cancel := context.WithCancel(d.parent)
	defer cancel()
	if dl, ok := ctx.Deadline(); ok {
		c, cancel = context.WithDeadline(c, dl)
		defer cancel()
	}
	return d.Target.Do(c)
}

// drainGrace is how long stop lets the requests in flight finish before
// it cancels them: long enough for a healthy service (milliseconds), short
// enough not to delay a rollback behind a hung one.
const drainGrace = time.Second

// stop ends the load, lets the requests in flight finish (for up to
// drainGrace), and waits.
func (lr *loadRun) stop() {
	if lr == nil {
		return
	}
	lr.cancel()
	defer lr.hard() // releases the context even when the drain finished in time
	select {
	case <-lr.done:
	case <-time.After(drainGrace):
		lr.hard()
		<-lr.done
	}
}

// background keeps load at rate during a phase; stop ends it.
func (r *runner) background(ctx context.Context, rate float64, d time.Duration, phase string) (stop func()) {
	lr, err := r.startLoad(ctx, rate, d+2*time.Second)
	if err != nil {
		r.logf("%s: background load not started: %v", phase, err)
	}
	return lr.stop
}

// progressFn prints a line per evaluation when progress is on.
func (r *runner) progressFn(phase string, total time.Duration) func(criteria.Evaluation) bool {
	start := time.Now()
	return func(ev criteria.Evaluation) bool {
		r.progressLine(phase, time.Since(start), total, ev)
		return false
	}
}

func (r *runner) progressLine(phase string, elapsed, total time.Duration, ev criteria.Evaluation) {
	if r.o.Observer != nil {
		r.o.Observer.Evaluation(ev)
	}
	if r.o.Progress == nil {
		return
	}
	fmt.Fprintln(r.o.Progress, progressText(time.Now(), phase, elapsed, total, ev))
}
