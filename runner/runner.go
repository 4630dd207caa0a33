package runner

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/assemble"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/monitor"
	"github.com/poolpilot/poolpilot/notify"
	"github.com/poolpilot/poolpilot/plan"
)

// Options configure a run: what was assembled from the plan and the
// environment, whose it is, and the caller's hooks.
type Options struct {
	// Run is the run assembled from the plan and the environment
	// (assemble.Load, or built by a test).
	Run *assemble.Run
	// ResumeDir is the run folder of a run to resume ("" starts a new one).
	ResumeDir string
	// Operator is who runs poolpilot and what they asked beyond the plan.
	Operator Operator
	// Log receives state changes and notable events (stderr).
	Log io.Writer
	// Progress, when set, receives a line per evaluation.
	Progress io.Writer
	Clock    poolpilot.Clock
	// Interactive is the operator's terminal, when there is one.
	Interactive Interactive
	// OnState is called after each state is journalled (the demo injects
	// its fault when the soak starts).
	OnState func(change.State)
	// Observer, when set, watches the run live (the dashboard).
	Observer Observer
}

// Operator is who runs poolpilot (the actor of operator events) and what
// they asked beyond the plan.
type Operator struct {
	Name       string
	SigningKey ed25519.PrivateKey // signs the audit log's head when set
	// OverrideWindow with OverrideReason runs outside the change window.
	OverrideWindow bool
	OverrideReason string
	// RollbackOnly makes the run roll back at once (poolpilot rollback on a
	// run no live process holds), with RollbackBy and RollbackReason.
	RollbackOnly   bool
	RollbackBy     string
	RollbackReason string
}

// Interactive is the operator's terminal: Interrupts delivers Ctrl-C; Ask
// (nil: not a terminal) asks the operator what to do and returns
// "continue", "rollback" or "leave".
type Interactive struct {
	Interrupts <-chan struct{}
	Ask        func() string
}

// Result is how a run ended.
type Result struct {
	Plan   string       `json:"plan"`
	RunID  string       `json:"run_id,omitempty"`
	Dir    string       `json:"dir,omitempty"`
	State  change.State `json:"state"`
	Reason string       `json:"reason,omitempty"`
	// Pending is the state a run reached but did not declare, because its
	// closing evidence could not be written (Missing names what); the
	// journal stays in State, and --resume finishes it.
	Pending  change.State `json:"pending_state,omitempty"`
	Missing  []string     `json:"evidence_missing,omitempty"`
	Head     string       `json:"audit_head,omitempty"`
	Report   string       `json:"report,omitempty"`
	Started  time.Time    `json:"started"`
	Ended    time.Time    `json:"ended"`
	ExitCode int          `json:"exit_code"`
}

// runner is one run in progress.
type runner struct {
	o       Options
	p       *plan.Plan
	folder  *evidence.Folder
	journal *change.Journal
	ctl     *change.Controller
	clock   poolpilot.Clock
	dir     string
	drv     change.Driver

	mu       sync.Mutex
	mon      *monitor.Monitor
	closers  []func()
	notifier *notify.Webhook
	pg       paging // PagerDuty and the events webhook (paging.go)
	base     *baselineData
	after    *snapshot
	soak     soakOutcome
	viol     violationCounter
	cv       *clientView // what poolpilot's own requests saw of each instance

	samples         *samplesJournal
	afterJournalled *snapshot // the r.after last journalled
	sealed          bool      // the evidence folder is closed
	head            string    // its head hash, once closed
	reportPath      string
}

// Run executes (or resumes) the plan and returns its result. The error is
// non-nil for bad input (poolpilot.ExitError) or an internal failure.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Clock == nil {
		o.Clock = poolpilot.SystemClock{}
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	r := &runner{o: o, p: o.Run.Plan, clock: o.Clock, cv: newClientView(clientWindow(o.Run.Plan.Evaluation.Interval.D()))}
	res := Result{Plan: o.Run.Plan.Name, Started: o.Clock.Now().UTC()}
	defer r.stopEvents() // last: the events of finish, run_closed too, are sent
	lock, err := r.open()
	if err != nil {
		return res, err
	}
	defer lock.Release()
	defer r.closeAll()
	res.RunID, res.Dir = filepath.Base(r.dir), r.dir
	if r.sealed {
		return r.alreadyClosed(res)
	}
	if o.Observer != nil {
		o.Observer.Started(o.Run.Plan, res.RunID, res.Dir)
		defer func() { o.Observer.Ended(res.State, res.Reason, o.Clock.Now().UTC()) }()
	}
	fmt.Fprintf(o.Log, "poolpilot run: plan %s, run %s\n  evidence: %s\n", r.p.Name, r.folder.RunID(), r.dir)
	rctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	stopWatch := r.watchControl(rctx, cancel)
	stopFlush := r.flushLoop()
	out, runErr := r.ctl.Run(rctx)
	stopWatch()
	stopFlush()
	if runErr == nil && out.State.Terminal() && !r.sealed {
		// A journal already terminal (a run from before the closing came
		// first): close its evidence now.
		runErr = r.finish(ctx, out)
	}
	res.State, res.Reason = out.State, out.Reason
	var inc *IncompleteError
	if errors.As(runErr, &inc) {
		res.State, res.Pending, res.Missing = change.ReplayRecords(r.journal.Records()).State, inc.State, inc.Missing
		res.Ended, res.ExitCode = o.Clock.Now().UTC(), poolpilot.ExitInternal
		fmt.Fprintln(o.Log, inc.page(o.Run.PlanPath, r.dir))
		return res, runErr
	}
	if runErr != nil && !errors.Is(runErr, change.ErrLeaveAsIs) {
		r.event(evidence.Note{Text: "run failed: " + runErr.Error()})
	}
	if errors.Is(runErr, change.ErrLeaveAsIs) || !out.State.Terminal() || runErr != nil {
		// Left as is (or an internal error mid-run): the folder stays open
		// for --resume or poolpilot rollback.
		res.Ended = o.Clock.Now().UTC()
		res.ExitCode = poolpilot.ExitInternal
		if runErr == nil {
			runErr = fmt.Errorf("run stopped in %s", out.State)
		}
		return res, runErr
	}
	res.Head, res.Report = r.head, r.reportPath
	res.Ended = o.Clock.Now().UTC()
	res.ExitCode = exitFor(out.State)
	return res, nil
}

func exitFor(s change.State) int {
	switch s {
	case change.StateSucceeded, change.StateSettled:
		return poolpilot.ExitOK
	case change.StateRolledBack:
		return poolpilot.ExitFailed
	case change.StateRefused:
		return poolpilot.ExitRefused
	}
	return poolpilot.ExitInternal
}

// open creates or resumes the evidence folder and the journal, takes the
// run lock and builds the controller.
func (r *runner) open() (*Lock, error) {
	var err error
	if r.drv, err = r.o.Run.BuildDriver(); err != nil { // before any folder: bad input changes nothing
		return nil, err
	}
	var secrets []string
	for _, in := range r.p.Instances {
		if v := r.getenv(in.AdminTokenEnv); v != "" && in.AdminTokenEnv != "" {
			secrets = append(secrets, v)
		}
	}
	if dsn := r.getenv(r.p.Database.DSNEnv); dsn != "" {
		secrets = append(secrets, dsn)
	}
	auth, err := assemble.PromAuth(r.p, r.getenv) // an unset variable is bad input, before any folder
	if err != nil {
		return nil, err
	}
	secrets = append(secrets, auth.Secrets()...)
	if r.p.Notify.WebhookEnv != "" {
		if u := r.getenv(r.p.Notify.WebhookEnv); u != "" {
			secrets = append(secrets, u)
			r.notifier = &notify.Webhook{URL: u, Name: r.p.Notify.WebhookEnv}
		}
	}
	secrets = append(secrets, r.setupPaging()...)
	opts := evidence.Options{Plan: r.p.Name, Secrets: secrets, SigningKey: r.o.Operator.SigningKey, Clock: r.clock, OnAppend: r.eventHook(), Version: r.o.Run.Version}
	var lock *Lock
	if r.o.ResumeDir != "" {
		r.dir = filepath.Clean(r.o.ResumeDir)
		if lock, err = TryLock(r.dir); err != nil {
			return nil, lockErr(r.dir, err)
		}
		if _, err := os.Stat(filepath.Join(r.dir, evidence.FileHead)); err == nil {
			r.sealed = true // closed: the journal may still lack its end
		} else if r.folder, err = evidence.Resume(r.dir, opts); err != nil {
			lock.Release()
			return nil, &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: err}
		}
	} else {
		if r.folder, err = evidence.Open(r.o.Run.EvidenceDir, opts); err != nil {
			return nil, err
		}
		r.dir = r.folder.Dir()
		if lock, err = TryLock(r.dir); err != nil {
			return nil, lockErr(r.dir, err)
		}
		r.writeFile(evidence.FilePlan, r.o.Run.PlanYAML)
		r.event(evidence.PlanLoaded{Name: r.p.Name, SHA256: r.p.SHA256()})
	}
	if r.journal, err = change.OpenJournal(ControlDir(r.dir)); err != nil {
		lock.Release()
		return nil, err
	}
	r.closers = append(r.closers, func() { r.journal.Close() })
	if r.samples, err = openSamplesJournal(ControlDir(r.dir)); err != nil {
		lock.Release()
		return nil, err
	}
	r.closers = append(r.closers, func() { r.samples.Close() })
	if r.sealed {
		return lock, nil
	}
	return lock, r.buildController()
}

func lockErr(dir string, err error) error {
	if errors.Is(err, ErrLocked) {
		return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: fmt.Errorf("%s: %w; wait for it, or ask it to roll back with: poolpilot rollback %s --reason TEXT", dir, err, dir)}
	}
	return err
}

func (r *runner) getenv(k string) string {
	if k == "" || r.o.Run.Getenv == nil {
		return ""
	}
	return r.o.Run.Getenv(k)
}

func (r *runner) buildController() error {
	c := &change.Controller{
		Plan: r.p, Journal: r.journal, Driver: r.drv, Prober: change.HTTPProber{},
		Recorder: r.folder, Clock: r.clock, Progress: humanWriter{r.o.Log}, Notify: r.notify, OnState: r.onState(),
		Backends: r.backendCounter(), Finish: r.finish,
	}
	c.Phases = change.Phases{
		Preflight:     r.preflight,
		Approvals:     r.approvals,
		Window:        r.window,
		Baseline:      r.baseline,
		LoadTest:      r.loadTest,
		Soak:          r.soakPhase,
		Step:          r.stepPhase,
		AfterRollback: r.postRollback,
	}
	if r.o.ResumeDir != "" {
		deploy, _ := os.ReadFile(filepath.Join(r.dir, evidence.FileDeploymentLog))
		rl, _ := os.ReadFile(filepath.Join(r.dir, evidence.FileRestartLog))
		c.SeedLogs(deploy, rl)
		r.restoreBaseline()
		if rec, _ := r.samples.closed(); rec != nil && !r.o.Operator.RollbackOnly && !change.ReplayRecords(r.journal.Records()).State.Terminal() {
			c.Pending = &change.Outcome{State: rec.State, Reason: rec.Reason}
			r.logf("resume: the run had reached %s; finishing its evidence from the journal", rec.State)
		}
	}
	r.ctl = c
	if r.o.Operator.RollbackOnly {
		return r.forceRollback()
	}
	return nil
}

// forceRollback journals the move to rolling-back (or, before anything
// changed, to refused) for a rollback without a live run.
func (r *runner) forceRollback() error {
	rp := change.ReplayRecords(r.journal.Records())
	why := ManualRollback{By: r.o.Operator.RollbackBy, Reason: r.o.Operator.RollbackReason}.Error()
	_ = r.folder.RecordAs(r.o.Operator.RollbackBy, evidence.RollbackRequested{By: r.o.Operator.RollbackBy, Reason: r.o.Operator.RollbackReason, LiveRun: false})
	to := change.StateRollingBack
	if !rp.State.Changed() && rp.State != change.StateRollingBack {
		to = change.StateRefused
	}
	if rp.State == change.StateRollingBack {
		return nil // the rollback was under way: Run finishes it
	}
	if err := change.CanMove(rp.State, to); err != nil {
		return &poolpilot.ExitError{Code: poolpilot.ExitBadInput, Err: fmt.Errorf("cannot roll back: %w", err)}
	}
	sc, err := change.Transition(r.journal, rp.State, to, why, r.clock.Now())
	if err != nil {
		return err
	}
	r.event(sc)
	return nil
}

func (r *runner) event(ev evidence.Event) {
	if err := r.folder.Record(ev); err != nil {
		name := ev.EventName()
		fmt.Fprintf(r.o.Log, "warning: audit event %s not recorded: %v\n", name, err)
		r.evidenceFailed(fmt.Errorf("audit event %s: %w", name, err))
	}
}

func (r *runner) writeFile(name string, data []byte) {
	if err := r.folder.Write(name, data); err != nil {
		fmt.Fprintf(r.o.Log, "warning: evidence file %s not written: %v\n", name, err)
		r.evidenceFailed(fmt.Errorf("%s: %w", name, err))
	}
}

func (r *runner) writeJSON(name string, v any) {
	if err := r.folder.WriteJSON(name, v); err != nil {
		fmt.Fprintf(r.o.Log, "warning: evidence file %s not written: %v\n", name, err)
		r.evidenceFailed(fmt.Errorf("%s: %w", name, err))
	}
}

// evidenceFailed tells the controller that evidence is being lost: the run
// is refused before apply, rolled back after it.
func (r *runner) evidenceFailed(err error) {
	if r.ctl != nil {
		r.ctl.EvidenceFailed(err)
	}
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.o.Log, "%s  %s\n", r.clock.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// notify sends a webhook message; the controller records failures.
func (r *runner) notify(ctx context.Context, event, text string) error {
	r.page(ctx, event, text)
	if r.notifier == nil {
		return nil
	}
	return r.notifier.Send(ctx, text)
}

// notifyNow sends and records, for the runner's own notifications.
func (r *runner) notifyNow(ctx context.Context, event, text string) {
	if r.notifier == nil {
		return
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.notifier.Send(nctx, text); err != nil {
		r.event(evidence.NotifyFailed{Event: event, Error: err.Error()})
		r.logf("warning: notification %s failed (recorded): %v", event, err)
		return
	}
	r.event(evidence.Notified{Event: event})
}

func (r *runner) closeAll() {
	r.mu.Lock()
	m := r.mon
	r.mon = nil
	r.mu.Unlock()
	if m != nil {
		m.Stop()
	}
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

// short trims a reason for a progress line.
func short(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
