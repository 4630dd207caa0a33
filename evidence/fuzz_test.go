package evidence_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
)

// FuzzAuditReader feeds arbitrary bytes to the audit log reader and the
// chain check: they must never panic, and every line they accept must be
// canonical (re-encoding it gives the same bytes) and hash to its hash.
func FuzzAuditReader(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "golden", "refused", evidence.FileAudit)); err == nil {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte(""))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":1,"time":"2026-02-01T02:00:00Z","actor":"a","event":"note","data":{},"prev":"0","hash":"` + evidence.ZeroHash + `"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := evidence.ReadAuditLines(data)
		head := &evidence.Head{Seq: 3, Hash: evidence.ZeroHash}
		_ = evidence.CheckChain(lines, nil)
		_ = evidence.CheckChain(lines, head)
		for _, rl := range lines {
			if rl.Err != nil {
				continue
			}
			l := rl.Line
			out, err := evidence.SealLine(&l)
			if err != nil {
				t.Fatalf("accepted line does not re-encode: %v", err)
			}
			if !bytes.Equal(bytes.TrimSuffix(out, []byte("\n")), rl.Raw) {
				if rl.HashOK {
					t.Fatalf("accepted line is not canonical:\n%s\n%s", rl.Raw, out)
				}
			}
		}
	})
}
