// Package schemagen writes the JSON Schema (draft 2020-12) of a poolpilot
// plan from the plan's Go types: the YAML names and kinds by reflection,
// the descriptions from the types' doc comments, and the constraints,
// enums and defaults that the plan package validates and applies.
//
// plan/plan.schema.json is its output; `go generate ./plan/` rewrites it
// and a test in package plan fails when it is out of date.
package schemagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
)

// FromSource generates the schema with the doc comments of the plan's
// types, read from the plan package's folder (plan.go) and the root
// package's (criterion.go, duration.go) above it.
func FromSource(planDir string) ([]byte, error) {
	docs, err := Docs(filepath.Join(planDir, "plan.go"), filepath.Join(planDir, "steps.go"), filepath.Join(planDir, "autosteps.go"), filepath.Join(planDir, "..", "criterion.go"), filepath.Join(planDir, "..", "duration.go"))
	if err != nil {
		return nil, err
	}
	return Generate(docs)
}

// Docs reads the doc comments of the types and struct fields declared in
// files: "Type" and "Type.Field" → the comment as one line.
func Docs(files ...string) (map[string]string, error) {
	docs := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("schemagen: %w", err)
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, sp := range gd.Specs {
				ts := sp.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				docs[ts.Name.Name] = oneLine(doc)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fl := range st.Fields.List {
					text := oneLine(fl.Doc)
					if text == "" {
						text = oneLine(fl.Comment)
					}
					for _, n := range fl.Names {
						docs[ts.Name.Name+"."+n.Name] = text
					}
				}
			}
		}
	}
	return docs, nil
}

func oneLine(cg *ast.CommentGroup) string {
	if cg == nil {
		return ""
	}
	return strings.Join(strings.Fields(cg.Text()), " ")
}

type gen struct {
	docs map[string]string
	defs map[string]any
}

// Generate returns the schema of plan.Plan as indented JSON.
func Generate(docs map[string]string) ([]byte, error) {
	g := &gen{docs: docs, defs: map[string]any{}}
	root := g.object(reflect.TypeOf(plan.Plan{}))
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = plan.SchemaURL
	root["title"] = "poolpilot plan"
	root["$defs"] = g.defs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("schemagen: %w", err)
	}
	return buf.Bytes(), nil
}

var (
	durationType = reflect.TypeOf(poolpilot.Duration(0))
	stepType     = reflect.TypeOf(plan.Step{})
	stepsType    = reflect.TypeOf([]plan.Step{})
	autoType     = reflect.TypeOf(plan.AutoSteps{})
)

// structRef puts the object schema of struct t in $defs and refers to it.
func (g *gen) structRef(t reflect.Type) map[string]any {
	if _, ok := g.defs[t.Name()]; !ok {
		g.defs[t.Name()] = nil // placeholder against recursion
		g.defs[t.Name()] = g.object(t)
	}
	return map[string]any{"$ref": "#/$defs/" + t.Name()}
}

// object is the schema of a struct: its YAML fields, no others.
func (g *gen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		s := g.schema(f.Type)
		if f.Type == stepsType {
			// change.steps: a list, or {auto: true} (steps from the sizing report).
			s = map[string]any{"oneOf": []any{s, g.structRef(autoType)}}
		}
		if d := g.docs[t.Name()+"."+f.Name]; d != "" {
			s["description"] = d
		}
		for k, v := range constraints[t.Name()+"."+name] {
			s[k] = v
		}
		props[name] = s
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if d := g.docs[t.Name()]; d != "" {
		o["description"] = d
	}
	if r := required[t.Name()]; len(r) > 0 {
		o["required"] = r
	}
	return o
}

// schema is the schema of a value of type t; structs and durations are
// referenced from $defs.
func (g *gen) schema(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		g.defs["Duration"] = map[string]any{
			"type":        "string",
			"pattern":     `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`,
			"description": "A Go duration such as 30s, 5m or 1h30m; not negative, and a number needs a unit.",
		}
		return map[string]any{"$ref": "#/$defs/Duration"}
	}
	if t == stepType {
		// A step is its max alone (50) or a mapping ({max: 50, min: 5}).
		step := g.structRef(t)
		return map[string]any{"oneOf": []any{map[string]any{"type": "integer", "minimum": 1, "maximum": plan.MaxPoolSize}, step}}
	}
	switch t.Kind() {
	case reflect.Struct:
		if _, ok := g.defs[t.Name()]; !ok {
			g.defs[t.Name()] = nil // placeholder against recursion
			g.defs[t.Name()] = g.object(t)
		}
		return map[string]any{"$ref": "#/$defs/" + t.Name()}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	}
	panic(fmt.Sprintf("schemagen: no schema for %s", t))
}
