package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/report"
)

func init() { commands = append(commands, newReportCmd) }

func newReportCmd(e *env) *cobra.Command {
	var format, out string
	var asJSON bool
	c := &cobra.Command{
		Use:   "report DIR",
		Short: "Write the post-change report of a run from its evidence folder",
		Long: `report builds the post-change report from an evidence folder alone: summary
verdict, what changed, the timeline of states and events, each criterion with
its value and verdict, baseline against after, incidents and the rollback
reason, and charts of latency p95, error rate, pool utilization and wait p95.

--format html writes one self-contained file (inline SVG and CSS, no network
request) that prints well. --format md writes Markdown for a code host; with
--out, its charts are SVG files beside it (OUT-latency_p95.svg, …), without
--out a table of the series replaces them. --format json (or --json) prints
the report's data. The report never writes into the evidence folder (that
would make 'evidence verify' fail): give --out elsewhere.

Exit status: 0 report written (whatever the run's verdict; a folder that does
not verify is reported loudly in the report and on stderr); 2 bad input.`,
		Example: `  poolpilot report launch/evidence/phase1_pool_scaling/20260201T020000Z-a1b2c3 --format html --out phase1.html
  poolpilot report DIR --out phase1.md
  poolpilot report DIR --format md | less`,
		Args: evExactArgs(1, "DIR: the run folder"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				format = "json"
			}
			return runReport(e, args[0], format, out)
		},
	}
	c.Flags().StringVar(&format, "format", "", "md, html or json (default: from --out's extension, else md)")
	c.Flags().StringVar(&out, "out", "", "write to `FILE` instead of stdout")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report's data as JSON (same as --format json)")
	return c
}

func runReport(e *env, dir, format, out string) error {
	if format == "" {
		format = "md"
		if ext := strings.ToLower(filepath.Ext(out)); ext == ".html" || ext == ".htm" {
			format = "html"
		} else if ext == ".json" {
			format = "json"
		}
	}
	if format != "md" && format != "html" && format != "json" {
		return poolpilot.BadInput("--format %q: use md, html or json", format)
	}
	if out != "" && insideDir(out, dir) {
		return poolpilot.BadInput("--out %s is inside the evidence folder: 'evidence verify' would report it as an added file; write the report elsewhere", out)
	}
	m, err := report.Load(dir)
	if err != nil {
		return poolpilot.BadInput("report: %v", err)
	}
	if !m.Integrity.OK {
		fmt.Fprintf(e.stderr, "poolpilot: warning: the evidence does not verify: %s\n", m.Integrity.Problems[0].Message)
	}
	body, charts, err := renderReport(m, format, out)
	if err != nil {
		return err
	}
	if out == "" {
		_, err := e.stdout.Write(body)
		return err
	}
	for name, svg := range charts {
		if err := os.WriteFile(filepath.Join(filepath.Dir(out), name), svg, 0o644); err != nil {
			return poolpilot.BadInput("report: %v", err)
		}
	}
	if err := os.WriteFile(out, body, 0o644); err != nil {
		return poolpilot.BadInput("report: %v", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s (%s", out, m.Verdict)
	if len(charts) > 0 {
		fmt.Fprintf(e.stdout, ", %d chart files beside it", len(charts))
	}
	fmt.Fprintln(e.stdout, ")")
	return nil
}

// renderReport returns the report and, for Markdown written to a file, the
// chart files to write beside it (name → SVG).
func renderReport(m *report.Model, format, out string) ([]byte, map[string][]byte, error) {
	switch format {
	case "html":
		b, err := report.HTML(m)
		return b, nil, err
	case "json":
		b, err := json.MarshalIndent(m, "", "  ")
		return append(b, '\n'), nil, err
	}
	opts := report.MarkdownOptions{}
	charts := map[string][]byte{}
	if out != "" {
		base := strings.TrimSuffix(filepath.Base(out), filepath.Ext(out))
		opts.ChartFiles = map[string]string{}
		for _, c := range m.Charts() {
			name := base + "-" + c.ID + ".svg"
			opts.ChartFiles[c.ID] = name
			charts[name] = c.Chart.SVG()
		}
		if sc := m.StepsChart(); sc != nil {
			name := base + "-" + report.StepsChartID + ".svg"
			opts.ChartFiles[report.StepsChartID] = name
			charts[name] = sc.SVG()
		}
	}
	return report.Markdown(m, opts), charts, nil
}

// insideDir says whether path is dir or inside it.
func insideDir(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
