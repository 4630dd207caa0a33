package pgpool

import (
	"testing"

	"github.com/poolpilot/poolpilot/internal/pgtest"
)

// BenchmarkStats measures one Stats() snapshot (what /healthz pays).
func BenchmarkStats(b *testing.B) {
	p := openTest(b, testConfig(b, pgtest.NewDatabase(b), 4, 0), Options{})
	for b.Loop() {
		_ = p.Stats()
	}
}
