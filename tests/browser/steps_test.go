package browsertest

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/dashboard"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/plan/plantest"
)

// stairsState is what the test reads from the page's Steps view.
type stairsState struct {
	Present bool              `json:"present"`
	Now     string            `json:"now"`
	Why     string            `json:"why"`
	Rows    map[string]string `json:"rows"` // data-step → verdict badge text
	Focus   bool              `json:"focus"`
}

const readStairs = `(() => {
  const s = document.querySelector('#stairs');
  if (!s) return {present: false, rows: {}};
  const rows = {}; s.querySelectorAll('tr[data-step]').forEach(r => { rows[r.dataset.step] = r.querySelector('.badge').textContent + ' ' + r.cells[1].textContent + ' ' + r.cells[2].textContent + ' ' + r.cells[3].textContent; });
  const wrap = s.querySelector('.table-wrap');
  return { present: true, now: (s.querySelector('.stair-now') || {}).textContent || '', why: (s.querySelector('.stair-why') || {}).textContent || '',
    rows: rows, focus: !!wrap && document.activeElement === wrap };
})()`

func waitStairs(t *testing.T, ctx context.Context, what string, ok func(stairsState) bool) stairsState {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := chromedp.Run(ctx, chromedp.Evaluate[stairsState](readStairs))
		if err != nil {
			t.Fatalf("read the steps view: %v", err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(st)
			t.Fatalf("steps view: %s not within 10s; last %s", what, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLiveStaircaseInChromium opens a live staircase run's page and follows
// it without reloading: the step watched now, then the first step judged
// (a row with its size, throughput, p95 and verdict) while the second is
// watched, then the run settling at the first step. The table can be
// reached with the keyboard. The run is driven through the same audit
// events and steps.json the controller writes.
func TestLiveStaircaseInChromium(t *testing.T) {
	o := plan.SeedInitOptions()
	o.Name, o.HealthURLs = "phase1_stairs", []string{"http://127.0.0.1:1/healthz"}
	p, _ := plantest.Init(t, o)
	health := func(context.Context, plan.Instance) (poolpilot.Health, error) {
		return poolpilot.Health{Status: "ok", Pool: poolpilot.PoolStats{Max: 20, Min: 10, Total: 10, Idle: 10},
			Requests: &poolpilot.RequestStats{Total: 100, LatencyP95MS: 12}}, nil
	}
	hub, err := dashboard.NewHub(dashboard.Options{Health: health, Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f, err := evidence.Open(t.TempDir(), evidence.Options{Plan: p.Name})
	if err != nil {
		t.Fatal(err)
	}
	live := hub.Live()
	live.Started(p, f.RunID(), f.Dir())
	srv := httptest.NewServer(hub.Handler())
	t.Cleanup(func() { srv.Close(); hub.Close() })
	state := func(from, to change.State) {
		if err := f.Record(change.StateChange(from, change.StateRecord(to, ""))); err != nil {
			t.Fatal(err)
		}
		live.State(to, time.Now())
	}
	step := func(i, max, min int) {
		if err := f.Record(evidence.Step{Index: i, Max: max, Min: min, Phase: "start"}); err != nil {
			t.Fatal(err)
		}
	}
	f64 := func(v float64) *float64 { return &v }
	from, to := plan.PoolSize{Max: 10, Min: 2}, plan.PoolSize{Max: 200, Min: 20}
	first := change.StepResult{Index: 0, Size: plan.PoolSize{Max: 20, Min: 10}, Held: true, Throughput: f64(30), P95MS: f64(12.5),
		Verdict: change.StepPass, Why: "step 1 (20:10) held"}
	second := change.StepResult{Index: 1, Size: plan.PoolSize{Max: 50, Min: 20}, Held: true, Throughput: f64(29), P95MS: f64(320),
		Verdict: change.StepWorse, Why: "p95 up 2460 %"}
	writeSteps := func(ev change.StepsEvidence) {
		ev.Plan, ev.From, ev.To = p.Name, from, to
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Write(evidence.FileSteps, b); err != nil {
			t.Fatal(err)
		}
	}

	state(change.StatePreflight, change.StateStepping)
	step(0, 20, 10)
	probs := &problems{}
	ctx := newBrowser(t, probs)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/runs/"+f.RunID())); err != nil {
		t.Fatal(err)
	}
	st := waitStairs(t, ctx, "step 1 watched", func(s stairsState) bool { return strings.Contains(s.Now, "Watching step 1: pool max 20 / min 10") })
	if len(st.Rows) != 0 {
		t.Errorf("no step is judged yet, the table shows %v", st.Rows)
	}

	// Step 1 held; step 2 starts. The page follows without a reload.
	writeSteps(change.StepsEvidence{Outcome: "climbing", Steps: []change.StepResult{first}})
	step(1, 50, 20)
	st = waitStairs(t, ctx, "step 1 judged, step 2 watched", func(s stairsState) bool {
		return strings.Contains(s.Now, "Watching step 2: pool max 50 / min 20") && len(s.Rows) == 1
	})
	if r := st.Rows["1"]; !strings.Contains(r, "pass") || !strings.Contains(r, "20:10") || !strings.Contains(r, "30/s") || !strings.Contains(r, "12.5 ms") {
		t.Errorf("step 1 row reads %q", r)
	}

	// Step 2 was worse: the run settles at step 1 and says why.
	zero := 0
	writeSteps(change.StepsEvidence{Outcome: "settled", Settled: &zero, Final: first.Size, Why: "step 2 (50:20) was worse: p95 up 2460 %",
		Steps: []change.StepResult{first, second}})
	st = waitStairs(t, ctx, "settled at step 1", func(s stairsState) bool { return len(s.Rows) == 2 && s.Now == "" })
	if !strings.Contains(st.Why, "Settled at step 1: step 2 (50:20) was worse") {
		t.Errorf("why reads %q", st.Why)
	}
	if r := st.Rows["2"]; !strings.Contains(r, "worse") || !strings.Contains(r, "50:20") || !strings.Contains(r, "320 ms") {
		t.Errorf("step 2 row reads %q", r)
	}

	// The steps table is a focusable region: Tab reaches it.
	for i := 0; !st.Focus; i++ {
		if i > 40 {
			t.Fatal("Tab never reached the steps table")
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		if st, err = chromedp.Run(ctx, chromedp.Evaluate[stairsState](readStairs)); err != nil {
			t.Fatal(err)
		}
	}
	if p := probs.get(); len(p) > 0 {
		t.Errorf("the page logged %d problem(s):\n%s", len(p), strings.Join(p, "\n"))
	}
}
