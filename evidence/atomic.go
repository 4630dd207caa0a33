package evidence

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tempPrefix starts the name of every temporary file; a file with this
// prefix left in a folder is the trace of a write interrupted by a crash.
const tempPrefix = ".tmp-"

// hooks let tests interrupt a write at chosen points. Nil in production.
type hooks struct {
	// wrap wraps the temporary file's writer (to make a write fail midway).
	wrap func(io.Writer) io.Writer
	// beforeRename runs after the temporary file is complete and fsynced,
	// before it is renamed to its final name.
	beforeRename func(tmp string)
}

// WriteFileAtomic writes data to path with permissions perm so that a
// reader (or a crash) sees either the old file or the new one, never a part
// of the new one. It is exported so that every package that replaces a file
// in place (the restart driver's env file) shares this one routine instead
// of a copy that might forget an fsync. A crash can leave a temporary file
// named .tmp-<name>-* next to path; it is safe to delete.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeAtomicPerm(filepath.Dir(path), filepath.Base(path), data, perm, nil)
}

// writeAtomic writes an evidence file (mode 0644) atomically; see
// writeAtomicPerm.
func writeAtomic(dir, name string, data []byte, h *hooks) error {
	return writeAtomicPerm(dir, name, data, 0o644, h)
}

// writeAtomicPerm writes data to dir/name: it writes a temporary file in the
// same folder, fsyncs it, renames it over the final name and fsyncs the
// folder, so that the rename survives a crash.
func writeAtomicPerm(dir, name string, data []byte, perm os.FileMode, h *hooks) (err error) {
	tmp, err := os.CreateTemp(dir, tempPrefix+name+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	var w io.Writer = tmp
	if h != nil && h.wrap != nil {
		w = h.wrap(tmp)
	}
	if _, err = w.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", name, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if h != nil && h.beforeRename != nil {
		h.beforeRename(tmpName)
	}
	if err = os.Rename(tmpName, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write %s: rename: %w", name, err)
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory so that a rename or a create in it survives a
// crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync folder %s: %w", dir, err)
	}
	return nil
}

func isTemp(name string) bool { return strings.HasPrefix(name, tempPrefix) }
