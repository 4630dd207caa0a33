package report

import (
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// BenchmarkHTMLHourSoak renders the HTML report of a run with the seed's
// 60-minute soak: 3,600 samples per chart.
func BenchmarkHTMLHourSoak(b *testing.B) {
	m, err := Load(evidencetest.Build(b, b.TempDir(), evidencetest.Success))
	if err != nil {
		b.Fatal(err)
	}
	var ss []evidence.Sample
	for i := 0; i < 3600; i++ {
		v := float64(40 + i%17)
		u, e := 0.2, 0.0001
		ss = append(ss, evidence.Sample{Time: evidencetest.Start.Add(time.Duration(i) * time.Second), LatencyP95MS: &v, ErrorRate: &e, Utilization: &u, WaitP95MS: &v})
	}
	m.Files.Monitoring.Samples = ss
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, err := HTML(m)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(h)))
	}
}
