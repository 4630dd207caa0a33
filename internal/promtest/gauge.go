package promtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Gauge is a scrape target serving one gauge whose value the test sets:
// a signal only Prometheus has, for a plan's promql criterion to watch.
type Gauge struct {
	Name string // the metric's name
	Addr string // host:port to scrape (Options.Targets)
	v    atomic.Int64
}

// NewGauge serves the gauge name at 0 until Set; cleanup stops it.
func NewGauge(t testing.TB, name string) *Gauge {
	t.Helper()
	g := &Gauge{Name: name}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %d\n", g.Name, g.Name, g.v.Load())
	}))
	t.Cleanup(srv.Close)
	g.Addr = strings.TrimPrefix(srv.URL, "http://")
	return g
}

// Set sets the gauge's value for the next scrape.
func (g *Gauge) Set(v int64) { g.v.Store(v) }
