package plan

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
)

// AutoSteps is change.steps given as {auto: true}: the steps come from the
// sizing report named by database.sizing_report (poolpilot size --save).
//
// The rule: every pool size the report's sweep measured (steps not
// excluded for errors) strictly between change.from.max and change.to.max,
// ascending, up to and including the report's recommended max when it
// made one (the sizes above it measured no better), then change.to itself.
// Each step's min is change.to.min capped at its max. Once read, the
// steps are the plan's as if listed: the normalised plan, its SHA-256 (what
// approvals bind to) and the evidence's plan.yaml hold the list.
type AutoSteps struct {
	// Auto takes the steps from the sizing report named by
	// database.sizing_report: the sizes its sweep measured between
	// change.from.max and change.to.max, up to its recommended max, then
	// change.to.
	Auto bool `yaml:"auto" json:"auto"`
}

// SizingReportSchema is the schema of a `poolpilot size --save` report.
const SizingReportSchema = "poolpilot.size/v1"

// sizingReport is what an auto staircase reads of a sizing report.
type sizingReport struct {
	Schema string `json:"schema"`
	Target string `json:"target"`
	Steps  []struct {
		Concurrency int     `json:"concurrency"`
		Throughput  float64 `json:"throughput"`
		Excluded    bool    `json:"excluded"`
	} `json:"steps"`
	Recommended struct {
		Max     int    `json:"max"`
		Refused bool   `json:"refused"`
		Reason  string `json:"reason"`
	} `json:"recommended"`
}

// AutoStepsSource is where an auto staircase's steps came from.
type AutoStepsSource struct {
	Report      string // the sizing report's path, as read
	Target      string // what the report measured: a redacted DSN, or the service
	Measured    []int  // the pool sizes its sweep measured (not excluded)
	Recommended int    // its recommended max; 0 when it made none
}

// AutoSteps reports whether change.steps was {auto: true}, and where the
// steps came from.
func (p *Plan) AutoSteps() (AutoStepsSource, bool) {
	if p.auto == nil {
		return AutoStepsSource{}, false
	}
	return *p.auto, true
}

const autoStepsPath = "$.change.steps"

// resolveAutoSteps fills change.steps from the sizing report.
func (p *Plan) resolveAutoSteps() []FieldError {
	fail := func(format string, a ...any) []FieldError {
		return []FieldError{{Path: autoStepsPath, Msg: fmt.Sprintf(format, a...)}}
	}
	p.auto = &AutoStepsSource{}
	if strings.TrimSpace(p.Database.SizingReport) == "" {
		return fail("{auto: true} takes the steps from a sizing report, and database.sizing_report names none: measure with poolpilot size --save sizing.json and set database.sizing_report: sizing.json, or list the steps, such as [20, 50, 100, 200]")
	}
	path := p.Path(p.Database.SizingReport)
	rep, err := readSizingReport(path)
	if err != nil {
		return fail("{auto: true}: %v: fix database.sizing_report, or list the steps", err)
	}
	src := p.auto
	src.Report, src.Target = path, rep.Target
	if rep.Recommended.Max > 0 && !rep.Recommended.Refused {
		src.Recommended = rep.Recommended.Max
	}
	for _, s := range rep.Steps {
		if !s.Excluded && s.Concurrency > 0 && s.Throughput > 0 {
			src.Measured = append(src.Measured, s.Concurrency)
		}
	}
	slices.Sort(src.Measured)
	src.Measured = slices.Compact(src.Measured)
	if msg := p.serviceMismatch(rep.Target); msg != "" {
		return fail("{auto: true}: the sizing report %s measured %s: %s", path, rep.Target, msg)
	}
	sizes, msg := autoSizes(src, p.Change.From.Max, p.Change.To.Max)
	if msg != "" {
		return fail("{auto: true}: the sizing report %s %s", path, msg)
	}
	for _, m := range sizes {
		p.Change.Steps = append(p.Change.Steps, Step{Max: m})
	}
	p.Change.Steps = append(p.Change.Steps, Step{Max: p.Change.To.Max, Min: p.Change.To.Min})
	return nil
}

// autoSizes applies the rule of AutoSteps; the message says why no step
// could be chosen.
func autoSizes(src *AutoStepsSource, from, to int) ([]int, string) {
	var in []int
	for _, m := range src.Measured {
		if m > from && m < to {
			in = append(in, m)
		}
	}
	if len(in) == 0 {
		return nil, fmt.Sprintf("measured no pool size between change.from.max %d and change.to.max %d (it measured %s): sweep that range with poolpilot size --max %d --save, or list the steps", from, to, sizeList(src.Measured), to)
	}
	if r := src.Recommended; r > 0 {
		if r <= from {
			return nil, fmt.Sprintf("recommends max %d, not above change.from.max %d: the larger sizes it measured were no better; reconsider change.to, or list the steps", r, from)
		}
		capped := slices.DeleteFunc(slices.Clone(in), func(m int) bool { return m > r })
		if len(capped) > 0 {
			in = capped
		}
	}
	return in, ""
}

func sizeList(ms []int) string {
	if len(ms) == 0 {
		return "none"
	}
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = fmt.Sprint(m)
	}
	return strings.Join(s, ", ")
}

func readSizingReport(path string) (*sizingReport, error) {
	var r sizingReport
	if err := LoadSizingReport(path, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// LoadSizingReport reads a `poolpilot size --save` report at path into v
// (advisor.Report, or a struct with the fields a reader needs), after
// checking its schema is SizingReportSchema.
func LoadSizingReport(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the sizing report: %w", err)
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return fmt.Errorf("sizing report %s: %w", path, err)
	}
	if head.Schema != SizingReportSchema {
		return fmt.Errorf("sizing report %s: schema %q, want %q (write it with poolpilot size --save)", path, head.Schema, SizingReportSchema)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("sizing report %s: %w", path, err)
	}
	return nil
}

// serviceReportPrefix starts the target of a `size --http` report.
const serviceReportPrefix = "the service whose admin endpoint is "

// serviceMismatch says why a size --http report measured another service
// than the plan's instances ("" when it did not, or is a database report).
func (p *Plan) serviceMismatch(target string) string {
	raw, ok := strings.CutPrefix(target, serviceReportPrefix)
	if !ok {
		return ""
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return ""
	}
	var hosts []string
	for _, in := range p.Instances {
		for _, s := range []string{in.AdminURL, in.HealthURL} {
			if v, err := url.Parse(s); err == nil && v.Host != "" {
				if v.Host == u.Host {
					return ""
				}
				hosts = append(hosts, v.Host)
			}
		}
	}
	return fmt.Sprintf("another service than this plan's instances (%s): measure them with poolpilot size --http … --save, or point database.sizing_report at their report", strings.Join(slices.Compact(hosts), ", "))
}

// CheckSizingDatabase refuses an auto staircase whose sizing report
// measured another database than dsn (the plan's database.dsn_env); nil
// for a plan without auto steps, or when either side cannot be read.
func (p *Plan) CheckSizingDatabase(dsn string) error {
	if p.auto == nil {
		return nil
	}
	want, ok1 := dbIdentity(p.auto.Target)
	got, ok2 := dbIdentity(dsn)
	if !ok1 || !ok2 || want == got {
		return nil
	}
	return fmt.Errorf("change.steps {auto: true}: the sizing report %s measured database %s, but %s points to %s: measure this database with poolpilot size --save, or point database.sizing_report at its report", p.auto.Report, want, p.Database.DSNEnv, got)
}

// dbIdentity is host:port/database of a connection string (URL or
// key=value form), password or not.
func dbIdentity(dsn string) (string, bool) {
	s := strings.TrimSpace(dsn)
	host, port, db := "", "5432", ""
	if rest, ok := strings.CutPrefix(s, "postgres://"); ok || strings.HasPrefix(s, "postgresql://") {
		if !ok {
			rest = strings.TrimPrefix(s, "postgresql://")
		}
		rest, _, _ = strings.Cut(rest, "?")
		auth, path, _ := strings.Cut(rest, "/")
		if i := strings.LastIndex(auth, "@"); i >= 0 {
			auth = auth[i+1:]
		}
		host, db = auth, path
		if h, pt, ok := strings.Cut(auth, ":"); ok && !strings.Contains(pt, ":") {
			host, port = h, pt
		}
	} else {
		for _, f := range strings.Fields(s) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "host":
				host = v
			case "port":
				port = v
			case "dbname":
				db = v
			}
		}
	}
	if host == "" || db == "" {
		return "", false
	}
	return fmt.Sprintf("%s:%s/%s", strings.ToLower(host), port, db), true
}
