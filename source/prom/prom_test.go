package prom

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/promtest"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

func byQuery(ss []poolpilot.Sample) map[string][]poolpilot.Sample {
	out := map[string][]poolpilot.Sample{}
	for _, s := range ss {
		q := strings.TrimPrefix(s.Metric, "promql:")
		out[q] = append(out[q], s)
	}
	return out
}

// TestRealPrometheusScrapingLedgerd runs a real Prometheus that scrapes a
// real ledgerd (on a real PostgreSQL) and queries it.
func TestRealPrometheusScrapingLedgerd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ld := ledgerdtest.Start(t, ledgerdtest.Options{})
	ps := promtest.New(t, promtest.Options{Targets: []string{ld.Addr}})
	if err := ps.WaitTargetsUp(ctx); err != nil {
		t.Fatalf("%v\n%s", err, ps.Logs())
	}
	queries := []string{
		"poolpilot_pool_max_connections",
		"scalar(sum(up))",
		"nope_no_such_metric",
		"sum(",
		"up[1m]",
	}
	src, err := New(ps.URL, queries, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := src.Metrics(); len(m) != 5 || m[0] != "promql:poolpilot_pool_max_connections" {
		t.Fatalf("metrics %v", m)
	}
	ss, err := src.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := byQuery(ss)
	if s := got[queries[0]]; len(s) != 1 || s[0].Gap || s[0].Value != 10 || s[0].Instance != ld.Addr {
		t.Fatalf("pool max: %+v, want 10 from instance %s", s, ld.Addr)
	}
	if s := got[queries[1]]; len(s) != 1 || s[0].Gap || s[0].Value != 1 || s[0].Instance != "" {
		t.Fatalf("scalar: %+v", s)
	}
	for q, want := range map[string]string{queries[2]: "empty result", queries[3]: "bad_data", queries[4]: `result type "matrix"`} {
		if s := got[q]; len(s) != 1 || !s[0].Gap || !strings.Contains(s[0].Reason, want) {
			t.Errorf("%s: %+v, want a gap saying %q", q, s, want)
		}
	}
	// Prometheus goes away: every series of the last answer is a gap.
	ps.Stop()
	ss, _ = src.Collect(ctx)
	got = byQuery(ss)
	if s := got[queries[0]]; len(s) != 1 || !s[0].Gap || s[0].Instance != ld.Addr || !strings.Contains(s[0].Reason, "query failed") {
		t.Fatalf("after stop: %+v", s)
	}
}

func TestParseAnswer(t *testing.T) {
	cases := []struct {
		body string
		want string // "" = ok
		n    int
	}{
		{`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"a"},"value":[1,"0.5"]},{"metric":{"instance":"b"},"value":[1,"2"]}]}}`, "", 2},
		{`{"status":"success","warnings":["some shards failed"],"data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}`, "partial answer: some shards failed", 0},
		{`{"status":"error","errorType":"timeout","error":"query timed out"}`, "timeout: query timed out", 0},
		{`{"status":"success","data":{"resultType":"string","result":[1,"x"]}}`, `result type "string"`, 0},
		{`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}`, `sample value "abc"`, 0},
		{`<html>`, "not a Prometheus answer", 0},
	}
	for _, c := range cases {
		vals, err := ParseAnswer(200, []byte(c.body))
		if c.want == "" {
			if err != nil || len(vals) != c.n {
				t.Errorf("%s: %v %v", c.body, vals, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.body, err, c.want)
		}
	}
	vals, _ := ParseAnswer(200, []byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"a","db":"x"},"value":[1,"1"]},{"metric":{"instance":"a","db":"y"},"value":[1,"NaN"]}]}}`))
	if vals[0].Instance != `{db="x",instance="a"}` || vals[1].Instance != `{db="y",instance="a"}` {
		t.Fatalf("ambiguous instances: %+v", vals)
	}
}
