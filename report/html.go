package report

import (
	"bytes"
	_ "embed"
	"html/template"

	"github.com/poolpilot/poolpilot/evidence"
)

//go:embed report.html.tmpl
var htmlTemplate string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"time": fmtTime,
	"clock": func(e TimelineEntry) string {
		return e.Time.UTC().Format("15:04:05.000")
	},
	"muted": func(e TimelineEntry) bool {
		return e.Event == evidence.EventFileWritten
	},
	"verdictClass": func(v string) string {
		return map[string]string{evidence.VerdictPass: "pass", evidence.VerdictFail: "fail"}[v]
	},
}).Parse(htmlTemplate))

type htmlChart struct {
	Title string
	SVG   template.HTML
}

type htmlData struct {
	*view
	Charts     []htmlChart
	StepsChart template.HTML
}

// HTML renders the report as one self-contained HTML file: inline CSS and
// SVG, no script, no request of any kind.
func HTML(m *Model) ([]byte, error) {
	d := htmlData{view: newView(m)}
	for _, c := range m.Charts() {
		// The chart package escapes every text it writes.
		d.Charts = append(d.Charts, htmlChart{Title: c.Title, SVG: template.HTML(c.Chart.SVG())}) // #nosec G203
	}
	if sc := m.StepsChart(); sc != nil {
		d.StepsChart = template.HTML(sc.SVG()) // #nosec G203 -- the chart package escapes every text it writes
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
