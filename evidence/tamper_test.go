package evidence_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

func readLines(t *testing.T, dir string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, evidence.FileAudit))
	if err != nil {
		t.Fatal(err)
	}
	ls := bytes.SplitAfter(b, []byte("\n"))
	return ls[:len(ls)-1] // the empty segment after the last newline
}

func writeLines(t *testing.T, dir string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, evidence.FileAudit), bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTamper applies one tampering to a good folder and checks that Verify
// names it, first, with the right kind and a clear message.
func TestTamper(t *testing.T) {
	other, _, _ := evidence.GenerateKey(nil)
	cases := []struct {
		name    string
		tamper  func(t *testing.T, dir string)
		pub     []byte
		kind    string
		message string
	}{
		{"flip a byte in a line", func(t *testing.T, dir string) {
			ls := readLines(t, dir)
			ls[9] = bytes.Replace(ls[9], []byte(`"pass"`), []byte(`"fail"`), 1)
			writeLines(t, dir, ls)
		}, nil, evidence.ProblemEditedLine, "line 10 (seq 10, checklist_item) was edited"},
		{"edit and re-hash a line", func(t *testing.T, dir string) {
			ls := readLines(t, dir)
			ls[9] = rehash(t, bytes.Replace(ls[9], []byte(`"pass"`), []byte(`"fail"`), 1))
			writeLines(t, dir, ls)
		}, nil, evidence.ProblemBrokenChain, "line 11 does not chain to line 10"},
		{"delete a line", func(t *testing.T, dir string) {
			ls := readLines(t, dir)
			writeLines(t, dir, append(ls[:5:5], ls[6:]...))
		}, nil, evidence.ProblemDeletedLine, "line(s) deleted before line 6: expected seq 6, found seq 7"},
		{"swap two lines", func(t *testing.T, dir string) {
			ls := readLines(t, dir)
			ls[6], ls[7] = ls[7], ls[6]
			writeLines(t, dir, ls)
		}, nil, evidence.ProblemReorderedLines, "lines reordered: line 7 holds seq 8, but seq 7 comes first and is at line 8"},
		{"truncate the log", func(t *testing.T, dir string) {
			ls := readLines(t, dir)
			writeLines(t, dir, ls[:len(ls)-3])
		}, nil, evidence.ProblemTruncatedLog, "audit log truncated: audit.head records 15 lines ending in hash"},
		{"cut the log mid-line", func(t *testing.T, dir string) {
			ls := readLines(t, dir)
			last := ls[len(ls)-1]
			ls[len(ls)-1] = last[:len(last)/2]
			writeLines(t, dir, ls)
		}, nil, evidence.ProblemTornLine, "line 15 is incomplete"},
		{"append a line without the chain", func(t *testing.T, dir string) {
			ls := readLines(t, dir)
			extra := bytes.Replace(ls[len(ls)-1], []byte(`"seq":15`), []byte(`"seq":16`), 1)
			writeLines(t, dir, append(ls, rehash(t, extra)))
		}, nil, evidence.ProblemAppendedLine, "line 16 (seq 16) was appended after the run was closed at seq 15"},
		{"edit a file", func(t *testing.T, dir string) {
			p := filepath.Join(dir, evidence.FileChecklist)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"fail"`), []byte(`"pass"`), 1), 0o644)
		}, nil, evidence.ProblemFileEdited, "file checklist.json was edited: its sha256 is"},
		{"delete a file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, evidence.FilePlan))
		}, nil, evidence.ProblemFileDeleted, "file plan.yaml was deleted: the audit log records it at line 2"},
		{"add a file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "post_change_config.json"), []byte("{}\n"), 0o644)
		}, nil, evidence.ProblemFileAdded, "file post_change_config.json was added: it is not recorded in the audit log"},
		{"edit the head", func(t *testing.T, dir string) {
			p := filepath.Join(dir, evidence.FileHead)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"seq":15`), []byte(`"seq":14`), 1), 0o644)
		}, nil, evidence.ProblemHeadMismatch, "audit.head names seq 14, but its hash"},
		{"rewrite the head's hash", func(t *testing.T, dir string) {
			p := filepath.Join(dir, evidence.FileHead)
			b, _ := os.ReadFile(p)
			i := bytes.Index(b, []byte(`"hash":"`)) + 8
			b[i] = map[byte]byte{'0': '1'}[b[i]] | '0'
			os.WriteFile(p, b, 0o644)
		}, nil, evidence.ProblemHeadMismatch, "audit.head names hash"},
		{"delete the head", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, evidence.FileHead))
		}, nil, evidence.ProblemNotClosed, "audit.head is missing"},
		{"verify with another key", func(t *testing.T, dir string) {}, other, evidence.ProblemBadSignature, "bad signature"},
		{"delete the signature", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, evidence.FileSignature))
		}, evidencetest.PublicKey, evidence.ProblemNoSignature, "audit.sig is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := evidencetest.Build(t, t.TempDir(), evidencetest.Refused)
			if res, err := evidence.Verify(dir, evidencetest.PublicKey); err != nil || !res.OK {
				t.Fatalf("fixture does not verify before tampering: %v %+v", err, res.Problems)
			}
			c.tamper(t, dir)
			pub := c.pub
			if pub == nil {
				pub = evidencetest.PublicKey
			}
			res, err := evidence.Verify(dir, pub)
			if err != nil {
				t.Fatal(err)
			}
			first := res.First()
			if res.OK || first == nil {
				t.Fatalf("tampering not detected: %+v", res)
			}
			if first.Kind != c.kind || !strings.Contains(first.Message, c.message) {
				t.Errorf("first problem %s: %q\nwant %s containing %q\nall: %+v", first.Kind, first.Message, c.kind, c.message, res.Problems)
			}
		})
	}
}

// rehash recomputes a line's hash from its content.
func rehash(t *testing.T, line []byte) []byte {
	t.Helper()
	rl := evidence.ReadAuditLines(line)
	if len(rl) != 1 {
		t.Fatalf("rehash: %d lines", len(rl))
	}
	l := rl[0].Line
	if rl[0].Err != nil && rl[0].Err != evidence.ErrNotCanonical {
		t.Fatalf("rehash: %v", rl[0].Err)
	}
	out, err := evidence.SealLine(&l)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
