package report

import (
	"fmt"
	"strings"

	"github.com/poolpilot/poolpilot/chart"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/evidence"
)

// stepsFile is what the report reads of steps.json (written by the change
// controller for a staircase change).
type stepsFile struct {
	Outcome string `json:"outcome"`
	Why     string `json:"why"`
	Settled *int   `json:"settled_index"`
	Final   struct {
		Max int `json:"max"`
		Min int `json:"min"`
	} `json:"final"`
	Steps []struct {
		Index int `json:"index"`
		Size  struct {
			Max int `json:"max"`
			Min int `json:"min"`
		} `json:"size"`
		Throughput *float64 `json:"throughput_rps"`
		P95MS      *float64 `json:"p95_ms"`
		Source     string   `json:"source"`
		DB         *struct {
			Backends   *int     `json:"backends"`
			CPUPercent *float64 `json:"cpu_percent"`
		} `json:"db"`
		Verdict string `json:"verdict"`
		Why     string `json:"why"`
	} `json:"steps"`
}

// StepRow is one step of a staircase change, as the report shows it.
type StepRow struct {
	Step, Size, Throughput, P95, Backends, CPU, Verdict, Why string
}

// loadSteps reads steps.json, if the run was a staircase.
func (m *Model) loadSteps() {
	var sf *stepsFile
	m.readJSON(evidence.FileSteps, &sf)
	if sf == nil {
		return
	}
	for _, s := range sf.Steps {
		r := StepRow{Step: fmt.Sprint(s.Index + 1), Size: fmt.Sprintf("%d:%d", s.Size.Max, s.Size.Min),
			Throughput: fmtOpt(s.Throughput, func(v float64) string { return criteria.HumanKind(criteria.KindCount, v) + "/s" }), P95: fmtOpt(s.P95MS, criteria.HumanMillis), Backends: "—", CPU: "—",
			Verdict: s.Verdict, Why: s.Why}
		if s.DB != nil {
			if s.DB.Backends != nil {
				r.Backends = fmt.Sprint(*s.DB.Backends)
			}
			r.CPU = fmtOpt(s.DB.CPUPercent, func(p float64) string { return criteria.HumanPercent(p / 100) })
		}
		m.Steps = append(m.Steps, r)
		m.stairs = append(m.stairs, chart.StairStep{Label: r.Size, Throughput: s.Throughput, P95MS: s.P95MS, Verdict: s.Verdict})
	}
	m.settled = -1
	if sf.Outcome == "settled" && sf.Settled != nil {
		m.settled = *sf.Settled
	}
	switch sf.Outcome {
	case "settled":
		m.StepsNote = fmt.Sprintf("Settled at %d:%d: %s", sf.Final.Max, sf.Final.Min, sf.Why)
	case "reached":
		m.StepsNote = fmt.Sprintf("Every step held: the target %d:%d was reached.", sf.Final.Max, sf.Final.Min)
	case "rolled-back":
		m.StepsNote = "The first step failed: rolled back. " + sf.Why
	default:
		m.StepsNote = "The run stopped while climbing. " + sf.Why
	}
}

func fmtOpt(v *float64, format func(float64) string) string {
	if v == nil {
		return "—"
	}
	return format(*v)
}

// StepsChartID names the steps chart (its SVG file: <report>-steps.svg).
const StepsChartID = "steps"

// StepsChart is the chart of a staircase's steps: each step's size,
// throughput, p95 and verdict, and the step the run settled at; nil when
// the run had no steps.
func (m *Model) StepsChart() *chart.Steps {
	if len(m.stairs) == 0 {
		return nil
	}
	return &chart.Steps{Title: "Steps: throughput and p95 per pool size", Steps: m.stairs, Settled: m.settled}
}

// mdSteps is the Markdown table of a staircase's steps, and its chart
// when it has a file.
func mdSteps(b *strings.Builder, m *Model, opts MarkdownOptions) {
	if len(m.Steps) == 0 {
		return
	}
	b.WriteString("## Steps\n\n" + md(m.StepsNote) + "\n\n")
	if p, ok := opts.ChartFiles[StepsChartID]; ok {
		fmt.Fprintf(b, "![Steps](%s)\n\n", p)
	}
	b.WriteString("| Step | Size | Throughput | p95 | Backends | DB CPU | Verdict | Why |\n|---:|---|---:|---:|---:|---:|---|---|\n")
	for _, s := range m.Steps {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", s.Step, s.Size, s.Throughput, s.P95, s.Backends, s.CPU, s.Verdict, md(s.Why))
	}
	b.WriteString("\n")
}
