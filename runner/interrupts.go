package runner

import (
	"context"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
)

// watchControl polls for manual rollback requests and handles Ctrl-C
// until stop is called.
func (r *runner) watchControl(ctx context.Context, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(requestInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-r.o.Interactive.Interrupts:
				r.interrupted(cancel)
			case <-t.C:
				req, err := takeRequest(r.dir)
				if err != nil || req == nil {
					continue
				}
				_ = r.folder.RecordAs(req.By, evidence.RollbackRequested{By: req.By, Reason: req.Reason, LiveRun: true})
				r.logf("manual rollback requested by %s: %s", req.By, req.Reason)
				cancel(ManualRollback{By: req.By, Reason: req.Reason})
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// interrupted asks the operator (or, without a terminal, rolls back).
func (r *runner) interrupted(cancel context.CancelCauseFunc) {
	choice := "rollback"
	if r.o.Interactive.Ask != nil {
		choice = r.o.Interactive.Ask()
	}
	who := r.o.Operator.Name
	if who == "" {
		who = "operator"
	}
	_ = r.folder.RecordAs(who, evidence.Interrupted{Choice: choice, Interactive: r.o.Interactive.Ask != nil})
	r.logf("interrupted: %s", choice)
	switch choice {
	case "continue":
	case "leave":
		cancel(change.ErrLeaveAsIs)
	default:
		cancel(ManualRollback{By: who, Reason: "interrupted (Ctrl-C)"})
	}
}
