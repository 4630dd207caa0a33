package httpapi

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// family gathers the server's registry and returns one metric family.
func family(t *testing.T, s *Server, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := s.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

func seriesCount(t *testing.T, s *Server, name string) int {
	t.Helper()
	if mf := family(t, s, name); mf != nil {
		return len(mf.GetMetric())
	}
	return 0
}

// counterValue returns the value of the counter or gauge series with the
// given label pairs; -1 when absent.
func counterValue(t *testing.T, s *Server, name string, labels ...string) float64 {
	t.Helper()
	mf := family(t, s, name)
	if mf == nil {
		return -1
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		}
	}
	return -1
}
