package evidence

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
)

// ErrClosed is returned by a Folder used after Close, and by Resume on a
// run that was closed.
var ErrClosed = errors.New("evidence folder is closed")

// Options configure Open and Resume.
type Options struct {
	// Plan is the plan's name; Open creates the run folder under
	// <evidence dir>/<PlanDir(Plan)>/. Required by Open.
	Plan string
	// RunID names the run folder; "" generates a sortable one (UTC time
	// and 6 random hex digits, e.g. 20260201T020000Z-a1b2c3).
	RunID string
	// Actor is the default actor of appended events (default "poolpilot").
	Actor string
	// Clock stamps every event (default the system clock).
	Clock poolpilot.Clock
	// Rand makes generated run ids (default crypto/rand).
	Rand io.Reader
	// Secrets are extra strings to redact from everything written, for
	// example the admin token's value.
	Secrets []string
	// SigningKey, when set, signs the head at Close (audit.sig).
	SigningKey ed25519.PrivateKey
	// OnAppend, when set, hears each audit line once it is written (the
	// runner's JSON event webhook). It is called with the folder locked:
	// it must not block or call the folder.
	OnAppend func(runID string, l Line)
	// Version is the version of the poolpilot writing the run, recorded in
	// run_opened ("" records none).
	Version string

	hooks *hooks
}

// Folder is an open evidence folder of one run. Its methods are safe for
// concurrent use.
type Folder struct {
	mu      sync.Mutex
	dir     string
	runID   string
	plan    string
	actor   string
	clock   poolpilot.Clock
	red     *Redactor
	key     ed25519.PrivateKey
	hooks   *hooks
	onLine  func(runID string, l Line)
	audit   *os.File
	lines   []Line
	closed  bool
	resumed *RunResumed
}

var (
	planDirRe = regexp.MustCompile(`[^a-z0-9._-]+`)
	runIDRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	fileRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// PlanDir maps a plan name to its folder name: lower case, every run of
// characters other than a-z, 0-9, '.', '_' and '-' becomes '_', trimmed of
// '_'. A valid plan name (a-z, 0-9, '_', '-', '.') maps to itself;
// "Phase 1 pool scaling" → "phase_1_pool_scaling".
func PlanDir(plan string) (string, error) {
	s := strings.Trim(planDirRe.ReplaceAllString(strings.ToLower(plan), "_"), "_")
	if s == "" || strings.Trim(s, ".") == "" {
		return "", fmt.Errorf("plan name %q gives an empty folder name: use letters or digits", plan)
	}
	return s, nil
}

// NewRunID returns a sortable run id: the UTC time and 6 random hex digits.
func NewRunID(now time.Time, r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [3]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]), nil
}

func (o *Options) defaults() (*Redactor, error) {
	if o.Clock == nil {
		o.Clock = poolpilot.SystemClock{}
	}
	if o.Actor == "" {
		o.Actor = DefaultActor
	}
	return NewRedactor(o.Secrets...)
}

// Open creates the folder of a new run, <evidenceDir>/<PlanDir(Plan)>/<run
// id>/, and its audit log, whose first line is a run_opened event.
func Open(evidenceDir string, opts Options) (*Folder, error) {
	red, err := opts.defaults()
	if err != nil {
		return nil, fmt.Errorf("open evidence: %w", err)
	}
	pd, err := PlanDir(opts.Plan)
	if err != nil {
		return nil, fmt.Errorf("open evidence: %w", err)
	}
	if opts.RunID == "" {
		if opts.RunID, err = NewRunID(opts.Clock.Now(), opts.Rand); err != nil {
			return nil, fmt.Errorf("open evidence: %w", err)
		}
	}
	if !runIDRe.MatchString(opts.RunID) {
		return nil, fmt.Errorf("open evidence: run id %q: use letters, digits, '.', '_' and '-'", opts.RunID)
	}
	parent := filepath.Join(evidenceDir, pd)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("open evidence: %w", err)
	}
	dir := filepath.Join(parent, opts.RunID)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open evidence: run folder: %w", err)
	}
	a, err := os.OpenFile(filepath.Join(dir, FileAudit), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open evidence: %w", err)
	}
	f := newFolder(dir, opts, red, a)
	if err := syncDir(dir); err != nil {
		a.Close()
		return nil, err
	}
	if err := syncDir(parent); err != nil {
		a.Close()
		return nil, err
	}
	if err := f.Record(RunOpened{Plan: opts.Plan, RunID: opts.RunID, PoolpilotVersion: opts.Version, Schema: AuditSchema}); err != nil {
		a.Close()
		return nil, err
	}
	return f, nil
}

func newFolder(dir string, opts Options, red *Redactor, audit *os.File) *Folder {
	return &Folder{dir: dir, runID: opts.RunID, plan: opts.Plan, actor: opts.Actor, clock: opts.Clock,
		red: red, key: opts.SigningKey, hooks: opts.hooks, onLine: opts.OnAppend, audit: audit}
}

// Dir is the run folder.
func (f *Folder) Dir() string { return f.dir }

// RunID is the run's id (the run folder's name).
func (f *Folder) RunID() string { return f.runID }

// Redactor is the folder's redactor; the controller may Add secrets to it.
func (f *Folder) Redactor() *Redactor { return f.red }

// Head returns the sequence number and hash of the last audit line.
func (f *Folder) Head() (uint64, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.headLocked()
}

func (f *Folder) headLocked() (uint64, string) {
	if len(f.lines) == 0 {
		return 0, ZeroHash
	}
	l := f.lines[len(f.lines)-1]
	return l.Seq, l.Hash
}

// Lines returns a copy of the audit lines written so far.
func (f *Folder) Lines() []Line {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Line(nil), f.lines...)
}

// Record appends ev, an event of this package's (events.go), by the
// folder's default actor: the way poolpilot writes the audit log.
func (f *Folder) Record(ev Event) error { return f.AppendAs("", ev.EventName(), ev) }

// RecordAs appends ev by actor ("" for the default).
func (f *Folder) RecordAs(actor string, ev Event) error {
	return f.AppendAs(actor, ev.EventName(), ev)
}

// Append records an event by name, by the folder's default actor: the raw
// form of Record, for tools and tests that write an event this package
// has no type for. data must encode to a JSON object (a struct or a map)
// or be nil.
func (f *Folder) Append(event string, data any) error { return f.AppendAs("", event, data) }

// AppendAs records an event by actor ("" for the default). The line is
// redacted, written with a single write and fsynced before AppendAs
// returns. A state_change also rewrites EXECUTION_LOG.md.
func (f *Folder) AppendAs(actor, event string, data any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	if err := f.appendLocked(actor, event, data); err != nil {
		return err
	}
	if event == EventStateChange {
		return f.writeExecLogLocked()
	}
	return nil
}

func (f *Folder) appendLocked(actor, event string, data any) error {
	if event == "" || !fileRe.MatchString(event) {
		return fmt.Errorf("audit: event %q: use letters, digits and '_'", event)
	}
	if actor == "" {
		actor = f.actor
	}
	raw, err := f.encodeData(data)
	if err != nil {
		return fmt.Errorf("audit %s: %w", event, err)
	}
	seq, prev := f.headLocked()
	l := Line{Seq: seq + 1, Time: f.clock.Now().UTC().Round(0), Actor: f.red.Redact(actor), Event: event, Data: raw, Prev: prev}
	b, err := SealLine(&l)
	if err != nil {
		return fmt.Errorf("audit %s: %w", event, err)
	}
	if _, err := f.audit.Write(b); err != nil {
		return fmt.Errorf("audit %s: write: %w", event, err)
	}
	if err := f.audit.Sync(); err != nil {
		return fmt.Errorf("audit %s: fsync: %w", event, err)
	}
	f.lines = append(f.lines, l)
	if f.onLine != nil {
		f.onLine(f.runID, l)
	}
	return nil
}

// encodeData encodes data as a redacted, compact JSON object.
func (f *Folder) encodeData(data any) (json.RawMessage, error) {
	if data == nil {
		return json.RawMessage("{}"), nil
	}
	b, err := encodeCompact(data)
	if err != nil {
		return nil, err
	}
	b = []byte(f.red.Redact(string(b)))
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return nil, fmt.Errorf("data must encode to a JSON object, got %.40s", b)
	}
	return encodeCompact(json.RawMessage(b))
}

// Write writes a file to the run folder atomically, after redaction, and
// records it (name, SHA-256 and size of the bytes on disk) in the audit
// log. Writing a name again replaces the file; the last record counts.
func (f *Folder) Write(name string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	return f.writeLocked(name, data)
}

func (f *Folder) writeLocked(name string, data []byte) error {
	if err := checkFileName(name); err != nil {
		return err
	}
	out := []byte(f.red.Redact(string(data)))
	if err := writeAtomic(f.dir, name, out, f.hooks); err != nil {
		return err
	}
	sum := sha256.Sum256(out)
	return f.appendLocked("", EventFileWritten, FileWritten{Name: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(out))})
}

// WriteJSON writes v as indented JSON (two spaces, final newline, no HTML
// escaping) through Write.
func (f *Folder) WriteJSON(name string, v any) error {
	b, err := MarshalFile(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return f.Write(name, b)
}

// WriteFile is Write; with Record it makes *Folder the change
// controller's Recorder.
func (f *Folder) WriteFile(name string, data []byte) error { return f.Write(name, data) }

// MarshalFile is the JSON encoding of every evidence file.
func MarshalFile(v any) ([]byte, error) {
	b, err := encodeCompact(v)
	if err != nil {
		return nil, err
	}
	var out strings.Builder
	if err := indentJSON(&out, b); err != nil {
		return nil, err
	}
	return []byte(out.String() + "\n"), nil
}

func checkFileName(name string) error {
	if !fileRe.MatchString(name) || isTemp(name) {
		return fmt.Errorf("evidence file name %q: use a plain file name (letters, digits, '.', '_', '-'), no folders", name)
	}
	switch name {
	case FileAudit, FileHead, FileSignature:
		return fmt.Errorf("evidence file name %q is reserved for the audit log", name)
	}
	return nil
}
