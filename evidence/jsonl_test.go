package evidence

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Lines survive a reopen, a torn last line is cut off, appends go on after
// the cut, and an error from the reader fails Open.
func TestJSONLReopenCutsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.jsonl")
	read := func() (*JSONL, []int) {
		var got []int
		f, err := OpenJSONL(path, "x", func(_ int, line []byte) error {
			var v int
			err := json.Unmarshal(line, &v)
			got = append(got, v)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return f, got
	}
	f, _ := read()
	if err := f.Append(1, 2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	raw, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	raw.WriteString("3") // torn
	raw.Close()
	f, got := read()
	if len(got) != 2 || got[1] != 2 || f.Size() != 4 {
		t.Fatalf("after a torn tail: %v, size %d", got, f.Size())
	}
	if err := f.Append(4); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if f, got = read(); len(got) != 3 || got[2] != 4 {
		t.Fatalf("after appending past the cut: %v", got)
	}
	f.Close()
	_, err := OpenJSONL(path, "x", func(n int, _ []byte) error { return os.ErrInvalid })
	if err == nil || !strings.Contains(err.Error(), "x "+path) {
		t.Fatalf("a reader's error: %v", err)
	}
}
