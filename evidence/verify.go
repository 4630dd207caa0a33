package evidence

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNotEvidence is returned by Verify (wrapped) when the folder cannot be
// checked: it does not exist, is not an evidence folder, or is unreadable.
var ErrNotEvidence = errors.New("not an evidence folder")

// FileCheck is the result of checking one file against the audit log.
type FileCheck struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`         // on disk; "" when missing
	Logged string `json:"logged_sha256"`  // in the last file_written for it
	Size   int64  `json:"size"`           // on disk
	Line   int    `json:"line,omitempty"` // audit line of the last record
	OK     bool   `json:"ok"`
}

// Result is what Verify found. OK is true when Problems is empty.
type Result struct {
	Dir              string      `json:"dir"`
	OK               bool        `json:"ok"`
	Lines            int         `json:"lines"`
	Head             string      `json:"head,omitempty"`
	Closed           bool        `json:"closed"`
	Signed           bool        `json:"signed"`
	SignatureChecked bool        `json:"signature_checked"`
	Files            []FileCheck `json:"files"`
	Problems         []Problem   `json:"problems"`
}

// First is the first problem, or nil.
func (r Result) First() *Problem {
	if len(r.Problems) == 0 {
		return nil
	}
	return &r.Problems[0]
}

// Verify checks a run folder: the audit log's hash chain, audit.head, each
// file's SHA-256 against the last file_written (or file_recovered) record
// for its name, that no logged file is missing and no unlogged file is
// present (besides audit.jsonl, audit.head and audit.sig), and, when pub is
// not nil, the Ed25519 signature of audit.head. A closed folder must also
// hold the evidence its final state needs (see checkComplete). Problems are in order:
// the log first, then files by name, then the signature. An error (wrapping
// ErrNotEvidence) means the folder could not be checked at all.
func Verify(dir string, pub ed25519.PublicKey) (Result, error) {
	res := Result{Dir: dir, Files: []FileCheck{}, Problems: []Problem{}}
	st, err := os.Stat(dir)
	if err != nil {
		return res, fmt.Errorf("%w: %v", ErrNotEvidence, err)
	}
	if !st.IsDir() {
		return res, fmt.Errorf("%w: %s is a file, not a run folder", ErrNotEvidence, dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, FileAudit))
	if errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("%w: %s has no %s (give the run folder, <evidence dir>/<plan>/<run id>)", ErrNotEvidence, dir, FileAudit)
	}
	if err != nil {
		return res, fmt.Errorf("%w: %v", ErrNotEvidence, err)
	}
	lines := ReadAuditLines(data)
	res.Lines = len(lines)
	head, headBytes, p := readHead(dir)
	if p != nil {
		res.Problems = append(res.Problems, *p)
	}
	res.Closed = head != nil
	if p := CheckChain(lines, head); p != nil {
		res.Problems = append(res.Problems, *p)
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].Err == nil {
			res.Head = lines[i].Line.Hash
			break
		}
	}
	files, fp, err := checkFiles(dir, lines)
	if err != nil {
		return res, fmt.Errorf("%w: %v", ErrNotEvidence, err)
	}
	res.Files = files
	res.Problems = append(res.Problems, fp...)
	res.Problems = append(res.Problems, checkShapes(lines)...)
	if res.Closed {
		res.Problems = append(res.Problems, checkComplete(dir, lines)...)
	}
	sp, signed, checked := checkSignature(dir, headBytes, pub)
	res.Signed, res.SignatureChecked = signed, checked
	if sp != nil {
		res.Problems = append(res.Problems, *sp)
	}
	res.OK = len(res.Problems) == 0
	return res, nil
}

func readHead(dir string) (*Head, []byte, *Problem) {
	b, err := os.ReadFile(filepath.Join(dir, FileHead))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, &Problem{Kind: ProblemNotClosed, File: FileHead, Message: "audit.head is missing: the run was not closed (still running, or it crashed and was not resumed) or the head was deleted; a truncated log cannot be ruled out"}
	}
	if err != nil {
		return nil, nil, &Problem{Kind: ProblemHeadMismatch, File: FileHead, Message: "audit.head is unreadable: " + err.Error()}
	}
	h, err := ParseHead(b)
	if err != nil {
		return nil, b, &Problem{Kind: ProblemHeadMismatch, File: FileHead, Message: err.Error() + " (audit.head was edited)"}
	}
	return &h, b, nil
}

// lastRecords maps each file name to the last good file_written or
// file_recovered line for it.
func lastRecords(lines []RawLine) map[string]RawLine {
	m := map[string]RawLine{}
	for _, rl := range lines {
		if rl.Err != nil || (rl.Line.Event != EventFileWritten && rl.Line.Event != EventFileRecovered) {
			continue
		}
		var fw FileWritten
		if json.Unmarshal(rl.Line.Data, &fw) == nil && fw.Name != "" {
			m[fw.Name] = rl
		}
	}
	return m
}

func checkFiles(dir string, lines []RawLine) ([]FileCheck, []Problem, error) {
	logged := lastRecords(lines)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	onDisk := map[string]fs.DirEntry{}
	names := []string{}
	for _, e := range entries {
		onDisk[e.Name()] = e
		names = append(names, e.Name())
	}
	for n := range logged {
		if _, ok := onDisk[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var checks []FileCheck
	var probs []Problem
	for _, n := range names {
		if n == FileAudit || n == FileHead || n == FileSignature {
			continue
		}
		c, p := checkFile(dir, n, onDisk[n], logged)
		if c != nil {
			checks = append(checks, *c)
		}
		if p != nil {
			probs = append(probs, *p)
		}
	}
	if checks == nil {
		checks = []FileCheck{}
	}
	return checks, probs, nil
}

func checkFile(dir, n string, e fs.DirEntry, logged map[string]RawLine) (*FileCheck, *Problem) {
	rec, isLogged := logged[n]
	if !isLogged {
		msg := fmt.Sprintf("file %s was added: it is not recorded in the audit log", n)
		switch {
		case isTemp(n):
			msg = fmt.Sprintf("file %s is left over from a write interrupted by a crash (resume the run to clean it up)", n)
		case e != nil && e.IsDir():
			msg = fmt.Sprintf("folder %s was added: an evidence folder holds no sub-folders", n)
		}
		return nil, &Problem{Kind: ProblemFileAdded, File: n, Message: msg}
	}
	var fw FileWritten
	_ = json.Unmarshal(rec.Line.Data, &fw)
	c := &FileCheck{Name: n, Logged: fw.SHA256, Line: rec.N}
	if e == nil {
		return c, &Problem{Kind: ProblemFileDeleted, File: n, Line: rec.N, Message: fmt.Sprintf(
			"file %s was deleted: the audit log records it at line %d (sha256 %s)", n, rec.N, short(fw.SHA256))}
	}
	b, err := os.ReadFile(filepath.Join(dir, n))
	if err != nil {
		return c, &Problem{Kind: ProblemFileEdited, File: n, Line: rec.N, Message: fmt.Sprintf("file %s is unreadable: %v", n, err)}
	}
	sum := sha256.Sum256(b)
	c.SHA256, c.Size = hex.EncodeToString(sum[:]), int64(len(b))
	if c.SHA256 != fw.SHA256 {
		return c, &Problem{Kind: ProblemFileEdited, File: n, Line: rec.N, Message: fmt.Sprintf(
			"file %s was edited: its sha256 is %s, the audit log (line %d) records %s", n, short(c.SHA256), rec.N, short(fw.SHA256))}
	}
	c.OK = true
	return c, nil
}

func checkSignature(dir string, head []byte, pub ed25519.PublicKey) (p *Problem, signed, checked bool) {
	b, err := os.ReadFile(filepath.Join(dir, FileSignature))
	if errors.Is(err, fs.ErrNotExist) {
		if pub != nil {
			return &Problem{Kind: ProblemNoSignature, File: FileSignature, Message: "audit.sig is missing: a public key was given but the head is not signed (or the signature was deleted)"}, false, false
		}
		return nil, false, false
	}
	if pub == nil {
		return nil, true, false
	}
	sig, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || derr != nil || head == nil || !VerifySignature(pub, head, sig) {
		return &Problem{Kind: ProblemBadSignature, File: FileSignature, Message: "bad signature: audit.sig does not verify audit.head with the given public key (head or signature edited, or signed with another key)"}, true, true
	}
	return nil, true, true
}
