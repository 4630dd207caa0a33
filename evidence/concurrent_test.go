package evidence_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
)

// TestConcurrentAppendsKeepOneChain: appends and writes from many
// goroutines interleave into one valid chain, and Close after them holds.
func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	f, err := evidence.Open(t.TempDir(), evidence.Options{Plan: "p"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if err := f.Append(evidence.EventNote, evidence.Note{Text: fmt.Sprint(g, "/", i)}); err != nil {
					t.Error(err)
				}
				if i%5 == 0 {
					if err := f.Write(fmt.Sprintf("g%d.txt", g), []byte(fmt.Sprint(i))); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if _, err := f.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := evidence.Verify(f.Dir(), nil)
	if err != nil || !res.OK {
		t.Fatalf("%v %+v", err, res.Problems)
	}
	if want := 1 + 8*20 + 8*4 + 1 + 1; res.Lines != want { // opened, notes, writes, EXECUTION_LOG.md, closed
		t.Fatalf("%d lines, want %d", res.Lines, want)
	}
}
