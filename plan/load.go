package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// MaxSize is the largest plan file accepted.
const MaxSize = 1 << 20

// FieldError is one problem in a plan, at a field (a YAML path such as
// $.change.to.max) and, when it can be found, a line.
type FieldError struct {
	Path string
	Line int
	Msg  string
}

func (e FieldError) Error() string {
	field := strings.TrimPrefix(e.Path, "$.")
	if field == "$" { // the whole file
		if e.Line > 0 {
			return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
		}
		return e.Msg
	}
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", e.Line, field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", field, e.Msg)
}

// Error lists every problem found in a plan.
type Error struct {
	File   string
	Errors []FieldError
}

func (e *Error) Error() string {
	var b strings.Builder
	name := e.File
	if name == "" {
		name = "plan"
	}
	fmt.Fprintf(&b, "%s: %d problem(s):", name, len(e.Errors))
	for _, fe := range e.Errors {
		b.WriteString("\n  " + fe.Error())
	}
	return b.String()
}

// Load reads and validates the plan at path.
func Load(path string) (*Plan, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	p, err := parse(data, filepath.Dir(path))
	var pe *Error
	if errors.As(err, &pe) {
		pe.File = path
	}
	return p, err
}

// Path resolves a path the plan names (database.sizing_report) relative to
// the folder of the plan file it was loaded from; an absolute path, or a
// plan that was not loaded from a file, leaves it as it is.
func (p *Plan) Path(rel string) string {
	if rel == "" || filepath.IsAbs(rel) || p.dir == "" {
		return rel
	}
	return filepath.Join(p.dir, rel)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("read plan: %s is a directory, not a plan file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("read plan: %s is larger than %d bytes", path, MaxSize)
	}
	return data, nil
}

// Parse decodes and validates a plan. Unknown keys and wrong types are
// refused; every validation problem is reported at once with its line.
// Paths the plan names (database.sizing_report) are relative to the
// working directory; Load reads them relative to the plan file.
func Parse(data []byte) (*Plan, error) { return parse(data, "") }

func parse(data []byte, dir string) (*Plan, error) {
	if len(data) > MaxSize {
		return nil, &Error{Errors: []FieldError{{Path: "$", Msg: fmt.Sprintf("plan is %d bytes; at most %d", len(data), MaxSize)}}}
	}
	if strings.TrimSpace(string(data)) == "" {
		return nil, &Error{Errors: []FieldError{{Path: "$", Msg: "empty plan: write one with `poolpilot plan init`"}}}
	}
	p := Plan{dir: dir}
	src, errs := decode(data, &p)
	if src.bad["$"] {
		return nil, &Error{Errors: errs}
	}
	if src.auto {
		for _, fe := range p.resolveAutoSteps() {
			fe.Line = src.line(fe.Path)
			errs = append(errs, fe)
			src.bad[fe.Path] = true
		}
	}
	p.applyDefaults(src)
	for _, fe := range p.validate() {
		if !src.refused(fe.Path) { // already reported as it was decoded
			fe.Line = src.line(fe.Path)
			errs = append(errs, fe)
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return lineKey(errs[i]) < lineKey(errs[j]) })
		return nil, &Error{Errors: errs}
	}
	return &p, nil
}

// lineKey orders problems by line, those without one last.
func lineKey(fe FieldError) int {
	if fe.Line == 0 {
		return int(^uint(0) >> 1)
	}
	return fe.Line
}

// decodeError turns a go-yaml error into a FieldError with its line and
// the offending source line, so that the field is named even where go-yaml
// names only the enclosing struct.
func decodeError(data []byte, err error) FieldError {
	var ye yaml.Error
	fe := FieldError{Path: "$", Msg: err.Error()}
	if !errors.As(err, &ye) {
		// An UnmarshalText error (a bad duration) carries no position:
		// find the one line whose value the message quotes.
		locateValue(data, &fe)
		return fe
	}
	fe.Msg = ye.GetMessage()
	if tok := ye.GetToken(); tok != nil && tok.Position != nil {
		fe.Line = tok.Position.Line
		lines := strings.Split(string(data), "\n")
		if fe.Line >= 1 && fe.Line <= len(lines) {
			src := lines[fe.Line-1]
			if i := strings.Index(src, " #"); i >= 0 {
				src = src[:i]
			}
			if src = strings.TrimSpace(src); src != "" {
				fe.Path = "$." + strings.TrimSpace(strings.TrimPrefix(src, "- "))
				if k, _, ok := strings.Cut(fe.Path, ":"); ok && !strings.ContainsAny(k, "{[") {
					fe.Path = k
				}
			}
		}
	}
	return fe
}

// locateValue sets fe's path and line to the only "key: value" line whose
// value is the first %q-quoted string of fe.Msg; it leaves fe alone when
// there is no such line or more than one.
func locateValue(data []byte, fe *FieldError) {
	_, rest, ok := strings.Cut(fe.Msg, `"`)
	val, _, ok2 := strings.Cut(rest, `"`)
	if !ok || !ok2 || val == "" {
		return
	}
	found := 0
	for i, line := range strings.Split(string(data), "\n") {
		if j := strings.Index(line, " #"); j >= 0 {
			line = line[:j]
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "- "), ":")
		if !ok || strings.Trim(strings.TrimSpace(v), `"'`) != val {
			continue
		}
		found++
		fe.Path, fe.Line = "$."+strings.TrimSpace(k), i+1
	}
	if found != 1 {
		fe.Path, fe.Line = "$", 0
	}
}

func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return "$"
}

// Normalised returns the canonical JSON form of the plan (defaults applied,
// comments and formatting gone); its SHA-256 is the plan's identity.
func (p *Plan) Normalised() []byte {
	b, err := json.Marshal(p)
	if err != nil { // a Plan holds only marshalable types
		panic(fmt.Sprintf("plan: marshal: %v", err))
	}
	return b
}

// SHA256 is the hex SHA-256 of the normalised plan. Approvals bind to it.
func (p *Plan) SHA256() string {
	sum := sha256.Sum256(p.Normalised())
	return hex.EncodeToString(sum[:])
}

// YAML returns the normalised plan as YAML.
func (p *Plan) YAML() []byte {
	b, err := yaml.MarshalWithOptions(p, yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		panic(fmt.Sprintf("plan: marshal yaml: %v", err))
	}
	return b
}
