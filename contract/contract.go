package contract

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/poolpilot/poolpilot"
)

// Version is the contract version the files describe (poolpilot.HealthSchema).
const Version = poolpilot.HealthSchema

// File names.
const (
	FileHealth  = "health.schema.json"
	FileAdmin   = "admin-pool.schema.json"
	FileMetrics = "metrics.json"
)

//go:embed health.schema.json admin-pool.schema.json metrics.json
var files embed.FS

// File returns an embedded contract file.
func File(name string) ([]byte, error) { return files.ReadFile(name) }

const base = "https://github.com/poolpilot/poolpilot/contract/"

// Schema is a compiled JSON Schema.
type Schema struct {
	name string
	s    *jsonschema.Schema
}

var compiled = sync.OnceValues(compileAll)

func compileAll() (map[string]*Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range []string{FileHealth, FileAdmin} {
		b, err := files.ReadFile(f)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("contract %s: %w", f, err)
		}
		if err := c.AddResource(base+f, doc); err != nil {
			return nil, fmt.Errorf("contract %s: %w", f, err)
		}
	}
	out := map[string]*Schema{}
	for name, loc := range map[string]string{
		"health": base + FileHealth, "resize request": base + FileAdmin,
		"resize answer": base + FileAdmin + "#/$defs/config", "admin error": base + FileAdmin + "#/$defs/error",
	} {
		s, err := c.Compile(loc)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", loc, err)
		}
		out[name] = &Schema{name: name, s: s}
	}
	return out, nil
}

func schema(name string) *Schema {
	m, err := compiled()
	if err != nil {
		panic(err) // the embedded files are tested: this is a build defect
	}
	return m[name]
}

// Health is the schema of the health document.
func Health() *Schema { return schema("health") }

// ResizeRequest is the schema of PUT /admin/pool's body.
func ResizeRequest() *Schema { return schema("resize request") }

// ResizeAnswer is the schema of PUT /admin/pool's 200 answer.
func ResizeAnswer() *Schema { return schema("resize answer") }

// AdminError is the schema of every error answer of PUT /admin/pool.
func AdminError() *Schema { return schema("admin error") }

// ValidationError lists every way a document breaks a schema.
type ValidationError struct {
	Schema   string
	Problems []string // "requests: missing property 'error_rate'", …
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("does not follow the %s contract: %s", e.Schema, strings.Join(e.Problems, "; "))
}

// Validate checks one JSON document; the error is a *ValidationError when
// the document parses but breaks the schema.
func (s *Schema) Validate(b []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	err = s.s.Validate(doc)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	return &ValidationError{Schema: s.name, Problems: problems(ve.BasicOutput())}
}

func problems(u *jsonschema.OutputUnit) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(u jsonschema.OutputUnit)
	walk = func(u jsonschema.OutputUnit) {
		if u.Error != nil && len(u.Errors) == 0 {
			at := strings.ReplaceAll(strings.TrimPrefix(u.InstanceLocation, "/"), "/", ".")
			if at == "" {
				at = "document"
			}
			p := at + ": " + u.Error.String()
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		for _, c := range u.Errors {
			walk(c)
		}
	}
	walk(*u)
	sort.Strings(out)
	return out
}

// Metric describes one metric family of GET /metrics.
type Metric struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // gauge, counter, histogram
	Unit     string   `json:"unit"`
	Labels   []string `json:"labels,omitempty"`
	Required bool     `json:"required"`
	Help     string   `json:"help"`
	// Field is the health document field with the same figure, if any.
	Field string `json:"field,omitempty"`
}

// MetricsFile is metrics.json.
type MetricsFile struct {
	Schema      string   `json:"schema"`
	Description string   `json:"description"`
	Metrics     []Metric `json:"metrics"`
}

// Metrics returns the metric families of the contract.
func Metrics() (MetricsFile, error) {
	var m MetricsFile
	b, err := files.ReadFile(FileMetrics)
	if err != nil {
		return m, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("contract %s: %w", FileMetrics, err)
	}
	return m, nil
}
