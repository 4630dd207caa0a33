package grafana

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// dashboard is the part of Grafana's dashboard model the tests read.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Name       string  `json:"name"`
	Type       string  `json:"type"`
	Query      any     `json:"query"`
	Definition string  `json:"definition"`
	Datasource *dsRef  `json:"datasource"`
	Multi      bool    `json:"multi"`
	IncludeAll bool    `json:"includeAll"`
	AllValue   *string `json:"allValue"`
}

type panel struct {
	ID         int      `json:"id"`
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	Datasource *dsRef   `json:"datasource"`
	Targets    []target `json:"targets"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
}

type target struct {
	RefID      string `json:"refId"`
	Expr       string `json:"expr"`
	Datasource *dsRef `json:"datasource"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("../../docs/grafana/poolpilot.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("poolpilot.json: %v", err)
	}
	return d
}

// query is one panel target.
type query struct {
	where, expr string
}

func (d dashboard) queries() []query {
	var out []query
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, query{where: p.Title + " / " + tg.RefID, expr: tg.Expr})
		}
	}
	return out
}

func (d dashboard) variable(name string) *variable {
	for i := range d.Templating.List {
		if d.Templating.List[i].Name == name {
			return &d.Templating.List[i]
		}
	}
	return nil
}

// TestDashboardShape checks what Grafana needs to import the dashboard and
// what the README promises: a Prometheus datasource variable that every
// panel and target uses, multi-value job and instance variables, every
// query filtered by job, unique panel ids and refIds, panels inside the
// 24-column grid.
func TestDashboardShape(t *testing.T) {
	d := loadDashboard(t)
	if d.UID != "poolpilot-pools" || d.Title == "" {
		t.Errorf("uid %q title %q", d.UID, d.Title)
	}
	ds := d.variable("datasource")
	if ds == nil || ds.Type != "datasource" || ds.Query != "prometheus" {
		t.Fatalf("no prometheus datasource variable: %+v", ds)
	}
	for _, name := range []string{"job", "instance"} {
		v := d.variable(name)
		if v == nil || v.Type != "query" || !v.Multi || !v.IncludeAll || v.Datasource == nil || v.Datasource.UID != "${datasource}" ||
			!strings.HasPrefix(v.Definition, "label_values(") {
			t.Errorf("variable %s: %+v", name, v)
		}
	}
	ids := map[int]bool{}
	n := 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X < 0 || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
			t.Errorf("%s: gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("%s: datasource %+v, %d targets", p.Title, p.Datasource, len(p.Targets))
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			n++
			if refs[tg.RefID] || tg.RefID == "" || tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("%s: target %+v", p.Title, tg)
			}
			refs[tg.RefID] = true
			if !strings.Contains(tg.Expr, `job=~"$job"`) {
				t.Errorf("%s / %s: not filtered by $job: %s", p.Title, tg.RefID, tg.Expr)
			}
		}
	}
	if n < 30 {
		t.Errorf("%d queries: the dashboard lost panels", n)
	}
}

// TestDashboardCoversTheRecordingRules: every recording rule of
// docs/prometheus/poolpilot.rules.yml is on a panel, so a rule added there
// is not forgotten here.
func TestDashboardCoversTheRecordingRules(t *testing.T) {
	b, err := os.ReadFile("../../docs/prometheus/poolpilot.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, q := range loadDashboard(t).queries() {
		all.WriteString(q.expr + "\n")
	}
	rules := regexp.MustCompile(`(?m)^\s*- record: (\S+)`).FindAllStringSubmatch(string(b), -1)
	if len(rules) < 10 {
		t.Fatalf("%d recording rules found", len(rules))
	}
	for _, m := range rules {
		if !strings.Contains(all.String(), m[1]+"{") {
			t.Errorf("recording rule %s is on no panel", m[1])
		}
	}
}
