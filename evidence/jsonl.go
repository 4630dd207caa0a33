package evidence

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// JSONL is a durable append-only file of JSON lines: every append is
// fsynced before it returns, and a torn last line (a crash in the middle
// of a write, never acknowledged) is cut off when the file is opened. The
// run's journal (change) and its samples journal (runner) are made of it.
// It is not safe for concurrent use: its owner holds its own lock.
type JSONL struct {
	name string // for messages: "journal", "samples journal"
	f    *os.File
	size int64 // bytes of complete lines
}

// OpenJSONL opens (or creates) the file at path and calls each with every
// complete line (n counts from 1; the line is without its newline and
// surrounding space); an error from each stops the reading and fails
// Open. A torn last line is cut off and appends go on from the end. Name
// names the file in error messages.
func OpenJSONL(path, name string, each func(n int, line []byte) error) (*JSONL, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	j := &JSONL{name: name, f: f}
	if err := j.read(each); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s %s: %w", name, path, err)
	}
	if err := f.Truncate(j.size); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: cut torn tail: %w", name, err)
	}
	if _, err := f.Seek(j.size, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return j, nil
}

func (j *JSONL) read(each func(n int, line []byte) error) error {
	br := bufio.NewReader(j.f)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return nil // no newline: a torn (or no) tail
		}
		if err != nil {
			return err
		}
		if err := each(n, bytes.TrimSpace(line)); err != nil {
			return err
		}
		j.size += int64(len(line))
	}
}

// Append writes vals, one JSON line each, with one write and fsyncs them.
// A partial write is cut off at once (it would otherwise be read as a torn
// line, or as corruption once another line follows it).
func (j *JSONL) Append(vals ...any) error {
	var b bytes.Buffer
	for _, v := range vals {
		line, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", j.name, err)
		}
		b.Write(append(line, '\n'))
	}
	if n, err := j.f.Write(b.Bytes()); err != nil {
		if n > 0 {
			_ = j.f.Truncate(j.size)
			_, _ = j.f.Seek(j.size, io.SeekStart)
		}
		return fmt.Errorf("%s write: %w", j.name, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("%s fsync: %w", j.name, err)
	}
	j.size += int64(b.Len())
	return nil
}

// Size is the number of bytes of complete lines.
func (j *JSONL) Size() int64 { return j.size }

// OSFile is the open file, for what the package does not do (such as
// reserving disk space ahead of the end).
func (j *JSONL) OSFile() *os.File { return j.f }

// Close closes the file.
func (j *JSONL) Close() error { return j.f.Close() }
