package evidence

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Head is audit.head: the last line of a closed audit log.
type Head struct {
	Seq  uint64    `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
}

// Close rewrites EXECUTION_LOG.md, appends run_closed, fsyncs, writes
// audit.head (and audit.sig when a signing key is set) and returns the
// head hash. The Folder is unusable afterwards.
func (f *Folder) Close() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return "", ErrClosed
	}
	if err := f.writeExecLogLocked(); err != nil {
		return "", err
	}
	if err := f.appendLocked("", EventRunClosed, RunClosed{}); err != nil {
		return "", err
	}
	f.closed = true
	if err := f.audit.Close(); err != nil {
		return "", fmt.Errorf("close audit log: %w", err)
	}
	seq, hash := f.headLocked()
	head, err := MarshalHead(Head{Seq: seq, Hash: hash, Time: f.lines[len(f.lines)-1].Time})
	if err != nil {
		return "", err
	}
	if err := writeAtomic(f.dir, FileHead, head, f.hooks); err != nil {
		return "", err
	}
	if f.key != nil {
		sig := base64.StdEncoding.EncodeToString(Sign(f.key, head)) + "\n"
		if err := writeAtomic(f.dir, FileSignature, []byte(sig), f.hooks); err != nil {
			return "", err
		}
	}
	return hash, nil
}

// MarshalHead is the exact bytes of audit.head (the bytes a signature
// covers): compact JSON and a newline.
func MarshalHead(h Head) ([]byte, error) {
	b, err := encodeCompact(h)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseHead reads audit.head.
func ParseHead(b []byte) (Head, error) {
	var h Head
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return h, fmt.Errorf("audit.head is not a head record: %w", err)
	}
	if len(h.Hash) != 64 || strings.Trim(h.Hash, "0123456789abcdef") != "" {
		return h, fmt.Errorf("audit.head: hash %q is not 64 hex digits", h.Hash)
	}
	return h, nil
}

func indentJSON(out *strings.Builder, compact []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return err
	}
	out.Write(b.Bytes())
	return nil
}
