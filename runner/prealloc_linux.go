package runner

import (
	"os"
	"syscall"
)

// preallocate reserves size bytes for f on disk without changing its size
// (fallocate with FALLOC_FL_KEEP_SIZE).
func preallocate(f *os.File, size int64) error {
	const keepSize = 0x1 // FALLOC_FL_KEEP_SIZE
	return syscall.Fallocate(int(f.Fd()), keepSize, 0, size)
}
