package evidence_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var scenarios = map[string]evidencetest.Scenario{
	"success":  evidencetest.Success,
	"rollback": evidencetest.Rollback,
	"refused":  evidencetest.Refused,
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file (go test ./evidence -update rewrites it):\n%s", name, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n- " + w + "\n+ " + g
		}
	}
	return "(same lines)"
}

// TestGoldenFolder checks every file of each fixture folder, byte for
// byte: each evidence file writer, the audit log, the execution log, the
// head and its signature.
func TestGoldenFolder(t *testing.T) {
	for name, sc := range scenarios {
		t.Run(name, func(t *testing.T) {
			dir := evidencetest.Build(t, t.TempDir(), sc)
			if got, want := filepath.Base(dir), evidencetest.RunID; got != want {
				t.Fatalf("run folder %s, want %s", got, want)
			}
			if got := filepath.Base(filepath.Dir(dir)); got != "phase1_pool_scaling" {
				t.Fatalf("plan folder %s", got)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join(name, e.Name()), b)
			}
			res, err := evidence.Verify(dir, evidencetest.PublicKey)
			if err != nil || !res.OK || !res.SignatureChecked {
				t.Fatalf("fixture does not verify: %v %+v", err, res.Problems)
			}
		})
	}
}
