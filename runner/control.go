package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A run's control files live beside its evidence folder, in
// <run folder>.run/, because the evidence folder holds only files its audit
// log records: the journal, the lock held by the live run and a manual
// rollback request.
const (
	ControlSuffix   = ".run"
	LockFile        = "run.lock"
	RequestFile     = "rollback.request"
	requestInterval = 250 * time.Millisecond
)

// ControlDir is the control folder of the run folder dir.
func ControlDir(runDir string) string {
	return filepath.Clean(runDir) + ControlSuffix
}

// Lock is the run lock: an exclusive lock on <control>/run.lock (flock on
// unix, LockFileEx on Windows), released by the kernel when the process
// dies (kill -9 included).
type Lock struct{ f *os.File }

// ErrLocked says that a live process holds the run.
var ErrLocked = errors.New("a live poolpilot process holds the run")

// TryLock takes the run lock of runDir without waiting.
func TryLock(runDir string) (*Lock, error) {
	dir := ControlDir(runDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	_ = f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return &Lock{f: f}, nil
}

// Release drops the lock.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		unlockFile(l.f)
		l.f.Close()
		l.f = nil
	}
}

// Request is a manual rollback request, written by `poolpilot rollback`
// for the live run to act on.
type Request struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	Time   time.Time `json:"time"`
}

// WriteRequest asks the live run of runDir to roll back.
func WriteRequest(runDir string, req Request) error {
	dir := ControlDir(runDir)
	b, _ := json.Marshal(req)
	tmp := filepath.Join(dir, RequestFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("rollback request: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, RequestFile))
}

// takeRequest reads and removes a pending request (nil when none).
func takeRequest(runDir string) (*Request, error) {
	path := filepath.Join(ControlDir(runDir), RequestFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	_ = os.Remove(path)
	var r Request
	if err := json.Unmarshal(b, &r); err != nil {
		return &Request{By: "unknown", Reason: "unreadable rollback request: " + strings.TrimSpace(string(b))}, nil
	}
	return &r, nil
}

// ManualRollback is the cause of a run context cancelled for an operator's
// rollback.
type ManualRollback struct{ By, Reason string }

func (m ManualRollback) Error() string {
	return fmt.Sprintf("manual rollback by %s: %s", m.By, m.Reason)
}
