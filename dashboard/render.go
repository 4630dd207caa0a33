package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/change"
	"github.com/poolpilot/poolpilot/criteria"
)

//go:embed assets
var assets embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"metric":    fmtMetric,
	"dur":       fmtDur,
	"clock":     func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"date":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"spark":     sparkline,
	"left":      func(s float64) string { return fmtDur(time.Duration(s * float64(time.Second))) },
	"size":      fmtSize,
	"ptr":       func(p *int) string { return ptrInt(p) },
	"pct":       func(p *float64) string { return fmtPtr(p, criteria.HumanPercent) },
	"ms":        func(p *float64) string { return fmtPtr(p, criteria.HumanMillis) },
	"stepClass": stepClass,
	"inc":       func(i int) int { return i + 1 },
	"rps": func(p *float64) string {
		return fmtPtr(p, func(v float64) string { return criteria.HumanKind(criteria.KindCount, v) + "/s" })
	},
	"upper": strings.ToUpper,
	"has":   strings.Contains,
	"deref": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
}).ParseFS(assets, "assets/*.html"))

// pageData is what the templates render.
type pageData struct {
	V        *View
	Token    bool // the rollback endpoint is enabled
	Runs     []*View
	Steps    []step
	Charts   []namedChart
	Entries  []Entry // timeline entries, newest first
	Criteria []critRow
}

type step struct {
	State, Class string
	Current      bool
	Entered      time.Time
	Dur          time.Duration
	Planned      time.Duration
	Reason       string
}

type critRow struct {
	CriterionView
	Spark template.HTML
}

// newPage prepares a view for the templates.
func newPage(v *View, token bool) *pageData {
	pd := &pageData{V: v, Token: token, Steps: steps(v), Charts: v.charts()}
	for i := len(v.Timeline) - 1; i >= 0; i-- {
		pd.Entries = append(pd.Entries, v.Timeline[i])
	}
	for _, c := range v.Criteria {
		pd.Criteria = append(pd.Criteria, critRow{CriterionView: c, Spark: sparkline(v.spark[c.Name], c.Threshold, c.State)})
	}
	return pd
}

// steps is the state machine: the forward path, then the rollback branch
// and refused when entered.
func steps(v *View) []step {
	entered := map[string]StateStep{}
	for _, s := range v.States {
		entered[s.State] = s
	}
	order := append([]change.State{}, change.Forward...)
	for _, s := range []change.State{change.StateRollingBack, change.StateRolledBack, change.StateRollbackFailed, change.StateRefused} {
		if _, ok := entered[string(s)]; ok {
			order = append(order, s)
		}
	}
	var out []step
	for _, s := range order {
		st := step{State: string(s), Class: "todo", Planned: v.PlanInfo.plannedDuration(string(s))}
		if e, ok := entered[string(s)]; ok {
			st.Class, st.Entered, st.Reason = "done", e.Entered, e.Reason
			end := e.Left
			if end.IsZero() {
				end = v.Now
				if v.Terminal {
					end = e.Entered
				}
			}
			st.Dur = end.Sub(e.Entered)
		}
		if string(s) == v.State {
			st.Current, st.Class = true, "current"
			if s.Terminal() {
				st.Class = "current final-" + toneOf(s)
			}
		}
		out = append(out, st)
	}
	return out
}

func toneOf(s change.State) string {
	switch s {
	case change.StateSucceeded, change.StateSettled:
		return "ok"
	case change.StateRolledBack, change.StateRefused:
		return "warn"
	}
	return "fail"
}

func stepClass(s step) string { return s.Class }

// render executes a named template.
func render(name string, pd *pageData) (string, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, pd); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}

// fmtMetric formats a criterion's value in its metric's unit.
func fmtMetric(metric string, p *float64) string {
	return fmtPtr(p, func(v float64) string { return criteria.Human(metric, v) })
}

// fmtPtr formats a value that may be missing ("—").
func fmtPtr(p *float64, format func(float64) string) string {
	if p == nil {
		return "—"
	}
	return format(*p)
}

func ptrInt(p *int) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprint(*p)
}

// fmtDur is 1h02m03s / 2m03s / 3s / 0.4s.
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < 100*time.Millisecond && d > 0 {
		return "<0.1s"
	}
	if d < 10*time.Second && d%time.Second != 0 {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	s := int64(math.Round(d.Seconds()))
	h, m, sec := s/3600, s/60%60, s%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, sec)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, sec)
	}
	return fmt.Sprintf("%ds", sec)
}

func fmtSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
