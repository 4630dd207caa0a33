package plan_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/plan/internal/schemagen"
)

// plan.schema.json is what the generator makes of the plan's Go types
// today: a field added, renamed or documented without `go generate
// ./plan/` fails here.
func TestSchemaIsInSync(t *testing.T) {
	want, err := schemagen.FromSource(".")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("plan.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("plan/plan.schema.json is out of date: run go generate ./plan/")
	}
}

// The schema accepts the plans plan init writes and refuses what Parse
// refuses, checked by a small validator of the keywords it uses.
func TestSchemaAcceptsInitPlansAndRefusesMistakes(t *testing.T) {
	var schema map[string]any
	b, _ := os.ReadFile("plan.schema.json")
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" || schema["$id"] != plan.SchemaURL {
		t.Errorf("$schema %v $id %v", schema["$schema"], schema["$id"])
	}
	o := plan.SeedInitOptions()
	o.Driver, o.Workload, o.LoadURL = plan.DriverRestart, "http", "http://127.0.0.1:8080/"
	for _, opts := range []plan.InitOptions{plan.SeedInitOptions(), o} {
		text, err := plan.Init(opts)
		if err != nil {
			t.Fatal(err)
		}
		if errs := validate(t, schema, text); len(errs) > 0 {
			t.Errorf("schema refuses plan init's plan (driver %s): %v", opts.Driver, errs)
		}
		for _, tc := range []struct{ from, to, want string }{
			{"soak:\n", "soak:\n  speed: 3\n", "$.soak: unknown speed"},
			{"batch_size: 1 ", "batch_size: 0 ", "$.rollout.batch_size: below 1"},
			{"driver: ", "driver: ssh #", "$.driver: not in enum"},
			{"max_age: 24h", "max_age: 24", "$.backup.max_age: not a string"},
			{"interval: 1s", "interval: 1 s", "$.evaluation.interval: does not match"},
			{"min_coverage: 0.9", "min_coverage: 0", "$.evaluation.min_coverage: not above 0"},
			{"name: instance-1\n", "name: Instance 1\n", "$.instances[0].name: does not match"},
		} {
			edited := strings.Replace(string(text), tc.from, tc.to, 1)
			errs := validate(t, schema, []byte(edited))
			if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Errorf("%q → %q: schema errors %v, want %q", tc.from, tc.to, errs, tc.want)
			}
			if _, err := plan.Parse([]byte(edited)); err == nil {
				t.Errorf("%q → %q: Parse accepts what the schema refuses", tc.from, tc.to)
			}
		}
	}
}

func validate(t *testing.T, schema map[string]any, text []byte) []string {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(text, &doc); err != nil {
		t.Fatal(err)
	}
	v := &validator{defs: schema["$defs"].(map[string]any)}
	v.check(schema, doc, "$")
	return v.errs
}

// validator knows the keywords schemagen writes.
type validator struct {
	defs map[string]any
	errs []string
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, path+": "+fmt.Sprintf(format, args...))
}

func (v *validator) check(s map[string]any, x any, path string) {
	if ref, ok := s["$ref"].(string); ok {
		v.check(v.defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any), x, path)
	}
	num, isNum := number(x)
	switch s["type"] {
	case "object":
		m, ok := x.(map[string]any)
		if !ok {
			v.fail(path, "not an object")
			return
		}
		v.object(s, m, path)
	case "array":
		l, ok := x.([]any)
		if !ok {
			v.fail(path, "not an array")
			return
		}
		for i, e := range l {
			v.check(s["items"].(map[string]any), e, fmt.Sprintf("%s[%d]", path, i))
		}
	case "string":
		str, ok := x.(string)
		if !ok {
			v.fail(path, "not a string")
			return
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			v.fail(path, "does not match %s", p)
		}
	case "integer", "number":
		if !isNum || (s["type"] == "integer" && num != float64(int64(num))) {
			v.fail(path, "not a %s", s["type"])
			return
		}
	}
	if e, ok := s["enum"].([]any); ok && !contains(e, x) {
		v.fail(path, "not in enum %v", e)
	}
	if c, ok := s["const"]; ok && !reflect.DeepEqual(c, num) {
		v.fail(path, "not %v", c)
	}
	if m, ok := s["minimum"].(float64); ok && isNum && num < m {
		v.fail(path, "below %g", m)
	}
	if m, ok := s["maximum"].(float64); ok && isNum && num > m {
		v.fail(path, "above %g", m)
	}
	if m, ok := s["exclusiveMinimum"].(float64); ok && isNum && num <= m {
		v.fail(path, "not above %g", m)
	}
}

func (v *validator) object(s map[string]any, m map[string]any, path string) {
	props, _ := s["properties"].(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if ps, ok := props[k].(map[string]any); ok {
			v.check(ps, m[k], path+"."+k)
		} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
			v.check(ap, m[k], path+"."+k)
		} else if s["additionalProperties"] == false {
			v.fail(path, "unknown %s", k)
		}
	}
	for _, r := range asList(s["required"]) {
		if _, ok := m[r.(string)]; !ok {
			v.fail(path, "lacks %s", r)
		}
	}
}

func number(x any) (float64, bool) {
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		return float64(rv.Uint()), true
	case reflect.Float64, reflect.Float32:
		return rv.Float(), true
	}
	return 0, false
}

func contains(list []any, x any) bool {
	for _, e := range list {
		if e == x {
			return true
		}
	}
	return false
}

func asList(x any) []any {
	l, _ := x.([]any)
	return l
}
