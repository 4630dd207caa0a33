package runtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
)

// AuditEvents returns the data of each event named name in a run
// folder's audit log, in order.
func AuditEvents(t testing.TB, dir, name string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, evidence.FileAudit))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var e struct {
			Event string         `json:"event"`
			Data  map[string]any `json:"data"`
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Event == name {
			out = append(out, e.Data)
		}
	}
	return out
}

// NoSecretIn fails the test (and goes on) for each file of a run folder
// that holds one of secrets.
func NoSecretIn(t testing.TB, dir string, secrets ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the secret %q", e.Name(), s)
			}
		}
	}
}
