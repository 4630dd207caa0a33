package evidence_test

import (
	"fmt"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
)

// BenchmarkAppend measures one fsynced audit append.
func BenchmarkAppend(b *testing.B) {
	f, err := evidence.Open(b.TempDir(), evidence.Options{Plan: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.Append(evidence.EventNote, evidence.Note{Text: "sample"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify10k verifies a closed folder of 10,000 audit lines and
// 100 files.
func BenchmarkVerify10k(b *testing.B) {
	f, err := evidence.Open(b.TempDir(), evidence.Options{Plan: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; len(f.Lines()) < 10000; i++ {
		if i%99 == 0 {
			f.Write(fmt.Sprintf("file%03d.txt", i/99), []byte("some evidence\n"))
		}
		f.Append(evidence.EventNote, evidence.Note{Text: fmt.Sprint("line ", i)})
	}
	if _, err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := evidence.Verify(f.Dir(), nil)
		if err != nil || !res.OK {
			b.Fatal(err, res.Problems)
		}
	}
}
