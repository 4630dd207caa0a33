package runner

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// lockRange is the byte range locked: the whole file, as far as Windows
// is concerned (the lock is advisory for poolpilot, mandatory for Windows,
// so nothing else may write run.lock while a run holds it).
const lockRange = ^uint32(0)

// lockFile takes an exclusive LockFileEx lock on f without waiting;
// ErrLocked when another process holds it. Windows releases it when the
// process dies.
func lockFile(f *os.File) error {
	var ol windows.Overlapped
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, lockRange, lockRange, &ol)
	if err != nil {
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return ErrLocked
		}
		return fmt.Errorf("run lock: %w", err)
	}
	return nil
}

func unlockFile(f *os.File) {
	var ol windows.Overlapped
	_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, lockRange, lockRange, &ol)
}
