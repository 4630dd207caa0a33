package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Resume reopens the run folder dir after a crash, to continue its audit
// chain from the last valid line. opts.Plan and opts.RunID are taken from
// the folder.
//
// A torn final line (the file does not end with a newline: an append was
// cut short by the crash) is cut off, and the fact is recorded in the
// run_resumed event with the torn bytes' length and SHA-256. Any other
// problem of the chain (an edited, missing or reordered line) makes Resume
// refuse: a broken chain is never continued. Temporary files of
// interrupted writes are deleted, and a file whose content differs from its
// last record (a crash after the rename, before its file_written line) is
// recorded again as file_recovered. A closed run (audit.head exists) is
// refused with ErrClosed.
func Resume(dir string, opts Options) (*Folder, error) {
	red, err := opts.defaults()
	if err != nil {
		return nil, fmt.Errorf("resume evidence: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileHead)); err == nil {
		return nil, fmt.Errorf("resume evidence %s: %w (audit.head exists)", dir, ErrClosed)
	}
	path := filepath.Join(dir, FileAudit)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("resume evidence: %w", err)
	}
	lines := ReadAuditLines(data)
	info := &RunResumed{}
	keep := len(data)
	if n := len(lines); n > 0 && lines[n-1].Torn {
		t := lines[n-1]
		sum := sha256.Sum256(t.Raw)
		info.TornLine = &TornLine{Line: t.N, Bytes: len(t.Raw), SHA256: hex.EncodeToString(sum[:])}
		keep -= len(t.Raw)
		lines = lines[:n-1]
	}
	if p := CheckChain(lines, nil); p != nil && len(lines) > 0 {
		return nil, fmt.Errorf("resume evidence %s: refusing to continue a broken audit chain: %s", dir, p.Message)
	}
	a, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("resume evidence: %w", err)
	}
	if info.TornLine != nil {
		if err := a.Truncate(int64(keep)); err != nil {
			a.Close()
			return nil, fmt.Errorf("resume evidence: cut torn line: %w", err)
		}
		if err := a.Sync(); err != nil {
			a.Close()
			return nil, fmt.Errorf("resume evidence: %w", err)
		}
	}
	opened := firstRunOpened(lines)
	if opened.Plan != "" {
		opts.Plan = opened.Plan
	}
	opts.RunID = filepath.Base(dir)
	f := newFolder(dir, opts, red, a)
	for _, rl := range lines {
		f.lines = append(f.lines, rl.Line)
	}
	if err := f.resumeLocked(info); err != nil {
		a.Close()
		return nil, err
	}
	return f, nil
}

func firstRunOpened(lines []RawLine) RunOpened {
	var ro RunOpened
	if len(lines) > 0 {
		_ = json.Unmarshal(lines[0].Line.Data, &ro)
	}
	return ro
}

// Resumed returns what Resume repaired, or nil for a folder made by Open.
func (f *Folder) Resumed() *RunResumed { return f.resumed }

func (f *Folder) resumeLocked(info *RunResumed) error {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return fmt.Errorf("resume evidence: %w", err)
	}
	for _, e := range entries {
		if isTemp(e.Name()) {
			if err := os.Remove(filepath.Join(f.dir, e.Name())); err != nil {
				return fmt.Errorf("resume evidence: remove %s: %w", e.Name(), err)
			}
			info.RemovedTemp = append(info.RemovedTemp, e.Name())
		}
	}
	if err := syncDir(f.dir); err != nil {
		return err
	}
	seq, _ := f.headLocked()
	info.AfterSeq = seq
	f.resumed = info
	if err := f.appendLocked("", EventRunResumed, info); err != nil {
		return err
	}
	return f.recoverFilesLocked()
}

// recoverFilesLocked records files whose content is not the last one logged.
func (f *Folder) recoverFilesLocked() error {
	raws := make([]RawLine, len(f.lines))
	for i, l := range f.lines {
		raws[i] = RawLine{N: i + 1, Line: l, HashOK: true}
	}
	logged := lastRecords(raws)
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return fmt.Errorf("resume evidence: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || n == FileAudit || checkFileName(n) != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(f.dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("resume evidence: %w", err)
		}
		sum := sha256.Sum256(b)
		fw := FileWritten{Name: n, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))}
		var old FileWritten
		if rec, ok := logged[n]; ok {
			_ = json.Unmarshal(rec.Line.Data, &old)
		}
		if old.SHA256 == fw.SHA256 {
			continue
		}
		fw.Logged = old.SHA256
		if err := f.appendLocked("", EventFileRecovered, FileRecovered(fw)); err != nil {
			return err
		}
	}
	return nil
}
