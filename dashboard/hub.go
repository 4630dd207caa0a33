package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
)

// Options configure a Hub.
type Options struct {
	// EvidenceDir, when set, is served read-only: every run folder
	// <dir>/<plan>/<run-id>/ (or dir itself, or <dir>/<run-id>/).
	EvidenceDir string
	// Token enables POST /api/runs/{id}/rollback ("" disables it: 404)
	// and GET /metrics (metrics.go), both behind Authorization: Bearer.
	Token string
	// MetricsToken, when set, is the bearer token GET /metrics wants
	// instead of Token, so that Prometheus need not hold the token that
	// can roll a run back.
	MetricsToken string
	// Rollback asks the live run whose folder is dir to roll back (the
	// runner's control request). Nil: the page cannot roll back.
	Rollback func(dir, by, reason string) error
	// Foreign, when set, reports whether another live process runs the
	// open evidence folder dir (its run lock is held): such a run can be
	// asked to roll back through Rollback too.
	Foreign func(dir string) bool
	// Secrets are redacted from every response (the token always is).
	Secrets []string
	// Health reads an instance's /healthz (default change.HTTPProber).
	Health func(ctx context.Context, in plan.Instance) (poolpilot.Health, error)
	// Interval is how often live runs' audit logs and /healthz are read
	// (default the plan's evaluation interval, else 1s).
	Interval time.Duration
	// Heartbeat is the SSE keep-alive comment interval (default 15s).
	Heartbeat time.Duration
	// Log receives warnings (refused requests, rollback requests).
	Log   io.Writer
	Clock poolpilot.Clock
}

// Hub holds the runs the dashboard shows and serves them (Handler).
type Hub struct {
	opts   Options
	red    *evidence.Redactor
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// pending counts the event streams of live runs that have not yet
	// sent their final message (Drain waits for them).
	pending atomic.Int64

	mu     sync.Mutex
	live   map[string]*run
	folder map[string]*run // by run id, loaded from EvidenceDir
	closed bool
}

// NewHub returns a Hub; Close stops its background readers.
func NewHub(opts Options) (*Hub, error) {
	if opts.Clock == nil {
		opts.Clock = poolpilot.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.Health == nil {
		opts.Health = change.HTTPProber{Client: nil}.Health
	}
	red, err := evidence.NewRedactor()
	if err != nil {
		return nil, err
	}
	for _, s := range append([]string{opts.Token, opts.MetricsToken}, opts.Secrets...) {
		if err := red.Add(s); err != nil {
			return nil, fmt.Errorf("dashboard secret: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{opts: opts, red: red, ctx: ctx, cancel: cancel, live: map[string]*run{}, folder: map[string]*run{}}, nil
}

// Close stops the background readers of live runs and ends SSE streams.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.cancel()
	h.wg.Wait()
}

// Drain waits (up to timeout) until every open event stream of a live run
// has sent the run's final message, so that a page sees how the run ended
// before the process stops serving it.
func (h *Hub) Drain(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for h.pending.Load() > 0 && time.Now().Before(deadline) {
		<-t.C
	}
}

func (h *Hub) now() time.Time { return h.opts.Clock.Now().UTC() }

func (h *Hub) logf(format string, args ...any) {
	fmt.Fprintf(h.opts.Log, "%s  dashboard: %s\n", h.now().Format("15:04:05"), h.red.Redact(fmt.Sprintf(format, args...)))
}

// addLive registers a live run and starts its readers.
func (h *Hub) addLive(r *run) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.live[r.id] = r
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.follow(h.ctx, r)
	}()
}

// endLive records a live run's end, reads its audit log a last time and
// verifies its folder, so that the page's last message is the final one.
func (h *Hub) endLive(r *run, s change.State, reason string, at time.Time) {
	defer h.finishLive(r)
	defer h.tail(r)
	r.mu.Lock()
	r.setStateLocked(s, at, "")
	r.reason, r.ended, r.terminal = reason, at, true
	switch s {
	case change.StateSucceeded, change.StateSettled:
		r.tone = "ok"
	case change.StateRolledBack, change.StateRefused:
		r.tone = "warn"
	default:
		r.tone = "fail"
	}
	r.touchLocked(secHead, secControl)
	r.mu.Unlock()
}

// lookup finds a run by id: live first, then the evidence folders.
func (h *Hub) lookup(id string) (*run, error) {
	if !runIDRe.MatchString(id) {
		return nil, errNotFound
	}
	h.mu.Lock()
	r := h.live[id]
	h.mu.Unlock()
	if r != nil {
		return r, nil
	}
	if h.opts.EvidenceDir == "" {
		return nil, errNotFound
	}
	dirs, err := findRunDirs(h.opts.EvidenceDir)
	if err != nil {
		return nil, err
	}
	dir, ok := dirs[id]
	if !ok {
		return nil, errNotFound
	}
	return h.folderRun(id, dir)
}

var errNotFound = errors.New("no such run")

// runs lists every run, newest first.
func (h *Hub) runs() []*View {
	h.mu.Lock()
	var out []*View
	seen := map[string]bool{}
	for _, r := range h.live {
		r.mu.Lock()
		out = append(out, r.viewLocked(h.now()))
		r.mu.Unlock()
		seen[r.id] = true
	}
	h.mu.Unlock()
	if h.opts.EvidenceDir != "" {
		dirs, _ := findRunDirs(h.opts.EvidenceDir)
		for id, dir := range dirs {
			if seen[id] {
				continue
			}
			if r, err := h.folderRun(id, dir); err == nil {
				r.mu.Lock()
				out = append(out, r.viewLocked(h.now()))
				r.mu.Unlock()
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.After(out[j].Started)
		}
		return out[i].ID > out[j].ID
	})
	return out
}
