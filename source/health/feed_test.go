package health

import (
	"errors"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot"
)

func TestFeeds(t *testing.T) {
	full, err := ParseDocument([]byte(`{"status":"ok","pool":{"max":10,"min":2,"wait_p95_ms":1},"requests":{"error_rate":0,"total":5,"window_seconds":60}}`))
	if err != nil {
		t.Fatal(err)
	}
	bare, err := ParseDocument([]byte(`{"status":"ok","pool":{"max":10,"min":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	specs := []poolpilot.CriterionSpec{
		{Name: "er", Expr: "error_rate < 0.001"},
		{Name: "wait", Expr: "pool.wait_p95_ms < 10", Optional: true},
		{Name: "util", Expr: "pool.utilization < 0.7"},
		{Name: "cpu", Expr: "db.cpu > 0.9"},
		{Name: "down", Expr: "downtime_s > 300"},
	}
	docs := []InstanceDoc{{Instance: "a", Doc: full}, {Instance: "b", Doc: bare}, {Instance: "c", Err: errors.New("refused")}}
	got := map[string]Feed{}
	for _, f := range Feeds(specs, docs) {
		got[f.Criterion] = f
	}
	want := map[string]struct{ status, detail string }{
		"er":   {FeedPartial, "field requests.error_rate absent from the health document of b (a gap there); carried by a; not answered: c"},
		"wait": {FeedPartial, "carried by a"},
		"util": {FeedNone, "field pool.utilization absent from the health document of a, b"},
		"cpu":  {FeedOther, "source hostcpu"},
		"down": {FeedOK, "needs nothing but the document"},
	}
	for name, w := range want {
		f := got[name]
		if f.Status != w.status || !strings.Contains(f.Detail, w.detail) {
			t.Errorf("%s: %s %q, want %s containing %q", name, f.Status, f.Detail, w.status, w.detail)
		}
	}
	if !got["wait"].Optional || got["util"].Missing["b"][0] != "pool.utilization" {
		t.Errorf("feeds %+v", got)
	}
	none := Feeds(specs[:1], []InstanceDoc{{Instance: "c", Err: errors.New("refused")}})
	if none[0].Status != FeedUnknown || !strings.Contains(none[0].Detail, "no instance answered (c)") {
		t.Errorf("no answer: %+v", none[0])
	}
}
