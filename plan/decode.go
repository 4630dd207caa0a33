package plan

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/poolpilot/poolpilot"
)

// source is what decoding learned about a plan's YAML beyond its values:
// the line of every field given a value (so that an explicit zero can be
// told from an absent field) and the fields whose value was refused.
type source struct {
	lines map[string]int  // YAML path ($.rollout.batch_size) → line, for fields present and not null
	bad   map[string]bool // paths refused while decoding; validation does not report them again
	auto  bool            // change.steps was {auto: true}
}

// has reports whether the plan gave path a (non-null) value.
func (s *source) has(path string) bool {
	_, ok := s.lines[path]
	return ok
}

// line is the line of path, or of its nearest parent that has one.
func (s *source) line(path string) int {
	for ; path != "$" && path != ""; path = parentPath(path) {
		if l, ok := s.lines[path]; ok {
			return l
		}
	}
	return 0
}

// refused reports whether path, or a parent of it, was refused while
// decoding.
func (s *source) refused(path string) bool {
	for ; path != ""; path = parentPath(path) {
		if s.bad[path] {
			return true
		}
		if path == "$" {
			return false
		}
	}
	return false
}

// decode reads data into p. Unlike a strict decoder, which stops at the
// first problem, it walks the whole YAML tree against the plan's types and
// reports every syntax problem, second document, unknown or repeated key
// and wrong type with its line, then decodes what remains so that
// validation can report the rest.
func decode(data []byte, p *Plan) (*source, []FieldError) {
	src := &source{lines: map[string]int{}, bad: map[string]bool{}}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		src.bad["$"] = true
		return src, []FieldError{decodeError(data, err)}
	}
	w := &walker{src: src}
	var body ast.Node
	for _, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body == nil {
			body = doc.Body
			continue
		}
		at := ast.Node(doc.Body)
		if doc.Start != nil && doc.Start.Position != nil {
			at = ast.Null(doc.Start)
		}
		w.fail("$", at, "a second YAML document starts here: a plan file holds one plan (remove this '---' and what follows, or split the file)")
	}
	if body == nil {
		return src, w.errs
	}
	if !w.check(body, reflect.TypeOf(Plan{}), "$") {
		return src, w.errs // not a mapping at all
	}
	if len(w.errs) == 0 && !src.auto {
		err = yaml.UnmarshalWithOptions(data, p, yaml.Strict())
	} else {
		// Decode what the walk kept, leniently (unknown keys are reported
		// already), to validate the rest of the plan; {auto: true} steps
		// were taken out of it.
		err = yaml.NodeToValue(body, p)
	}
	if err != nil { // something the walk does not know: report it as the decoder says
		src.bad["$"] = true
		w.errs = append(w.errs, decodeError(data, err))
	}
	return src, w.errs
}

// walker checks a YAML tree against a Go type and prunes what it refuses.
type walker struct {
	src  *source
	errs []FieldError
}

func (w *walker) fail(path string, n ast.Node, format string, args ...any) {
	w.errs = append(w.errs, FieldError{Path: path, Line: lineOf(n), Msg: fmt.Sprintf(format, args...)})
	w.src.bad[path] = true
}

// check reports whether n decodes into a t; when it does not, the caller
// drops n. Below n it drops what it refuses, so that the rest decodes.
func (w *walker) check(n ast.Node, t reflect.Type, path string) bool {
	if a, ok := n.(*ast.AnchorNode); ok {
		n = a.Value
	}
	switch n.(type) {
	case nil, *ast.NullNode, *ast.AliasNode: // zero, or resolved by the decoder
		return true
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return w.leaf(n, t, path)
	}
	if t == stepType {
		return w.step(n, path)
	}
	switch t.Kind() {
	case reflect.Struct:
		return w.mapping(n, path, t, nil)
	case reflect.Map:
		return w.mapping(n, path, nil, t.Elem())
	case reflect.Slice:
		return w.sequence(n, t.Elem(), path)
	}
	return w.leaf(n, t, path)
}

var textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()

// mapping checks a mapping for a struct st (known keys) or a map whose
// values are elem.
func (w *walker) mapping(n ast.Node, path string, st, elem reflect.Type) bool {
	m, ok := untag(n).(*ast.MappingNode)
	if !ok {
		w.fail(path, n, "must be a mapping (key: value), not %s", describe(n))
		return false
	}
	var fields map[string]reflect.Type
	if st != nil {
		fields = yamlFields(st)
	}
	seen := map[string]int{}
	kept := make([]*ast.MappingValueNode, 0, len(m.Values))
	for _, mv := range m.Values {
		if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
			kept = append(kept, mv) // <<: *anchor, left to the decoder
			continue
		}
		key := keyText(mv.Key)
		p := path + "." + key
		if first, dup := seen[key]; dup {
			w.fail(p, mv.Key, "is given twice (first on line %d)", first)
			continue
		}
		seen[key] = lineOf(mv.Key)
		ft := elem
		if st != nil {
			if ft, ok = fields[key]; !ok {
				w.fail(p, mv.Key, "unknown field%s", suggest(key, fields, path))
				kept = append(kept, mv) // ignored by the lenient decode; it may hold an anchor
				continue
			}
		}
		if !w.check(mv.Value, ft, p) {
			continue
		}
		if _, null := mv.Value.(*ast.NullNode); !null && mv.Value != nil {
			w.src.lines[p] = lineOf(mv.Key)
		}
		kept = append(kept, mv)
	}
	m.Values = kept
	return true
}

func (w *walker) sequence(n ast.Node, et reflect.Type, path string) bool {
	s, ok := untag(n).(*ast.SequenceNode)
	if !ok && et == stepType {
		return w.autoSteps(n, path)
	}
	if !ok {
		w.fail(path, n, "must be a list, not %s", describe(n))
		return false
	}
	for i, v := range s.Values {
		p := fmt.Sprintf("%s[%d]", path, i)
		w.src.lines[p] = lineOf(v)
		if !w.check(v, et, p) {
			// Keep the indices of the items after it.
			s.Values[i] = ast.Null(token.New("null", "null", &token.Position{Line: lineOf(v)}))
		}
	}
	return true
}

// leaf checks a scalar by decoding it alone, as the decoder would.
func (w *walker) leaf(n ast.Node, t reflect.Type, path string) bool {
	switch untag(n).(type) {
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		w.fail(path, n, "must be %s, not %s", want(t), describe(n))
		return false
	}
	if err := yaml.NodeToValue(n, reflect.New(t).Interface()); err != nil {
		var ye yaml.Error
		if !errors.As(err, &ye) && reflect.PointerTo(t).Implements(textUnmarshaler) {
			w.fail(path, n, "%v", err) // a Duration's own message: no unit, negative, ...
		} else {
			// The decoder's type error names Go types; say what is wanted.
			w.fail(path, n, "must be %s, not %s", want(t), describe(n))
		}
		return false
	}
	return true
}

var durationType = reflect.TypeOf(poolpilot.Duration(0))

// want says in words what a value of type t looks like.
func want(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 30s or 5m"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return "a " + t.Kind().String()
}

func describe(n ast.Node) string {
	switch untag(n).(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	if tk := n.GetToken(); tk != nil {
		return fmt.Sprintf("%q", tk.Value)
	}
	return "this value"
}

func untag(n ast.Node) ast.Node {
	for {
		switch x := n.(type) {
		case *ast.TagNode:
			n = x.Value
		case *ast.AnchorNode:
			n = x.Value
		default:
			return n
		}
	}
}

func keyText(n ast.Node) string {
	if s, ok := untag(n).(*ast.StringNode); ok {
		return s.Value
	}
	if n != nil {
		if tk := n.GetToken(); tk != nil {
			return tk.Value
		}
	}
	return "?"
}

func lineOf(n ast.Node) int {
	if n == nil {
		return 0
	}
	if d, ok := n.(*ast.DocumentNode); ok && d.Start == nil && d.Body == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// yamlFields maps the YAML names of st's fields to their types.
func yamlFields(st reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(st); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	fieldCache.Store(st, m)
	return m
}

// suggest names the closest known field, else lists them.
func suggest(key string, fields map[string]reflect.Type, parent string) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(strings.ToLower(key), n); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	where := strings.TrimPrefix(parent, "$.")
	if parent == "$" {
		where = "a plan"
	}
	return fmt.Sprintf("; %s takes: %s", where, strings.Join(names, ", "))
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

var stepType = reflect.TypeOf(Step{})

// step checks a staircase step: a whole number (its max) or {max, min}.
func (w *walker) step(n ast.Node, path string) bool {
	switch x := untag(n).(type) {
	case *ast.MappingNode:
		for _, mv := range x.Values {
			if keyText(mv.Key) == "auto" {
				w.fail(path+".auto", mv.Key, "auto takes the place of the list: write change.steps: {auto: true} alone, or list the steps without auto")
				return false
			}
		}
		return w.mapping(n, path, stepType, nil)
	case *ast.SequenceNode, *ast.MappingValueNode:
		w.fail(path, n, "must be a whole number (the step's max) or {max: N, min: M}, not %s", describe(n))
		return false
	}
	return w.leaf(n, reflect.TypeOf(0), path)
}

// autoSteps reads change.steps given as a mapping: {auto: true} takes the
// steps from the sizing report (resolved after decoding); anything else is
// wrong. The mapping is dropped from what the decoder sees.
func (w *walker) autoSteps(n ast.Node, path string) bool {
	m, ok := untag(n).(*ast.MappingNode)
	if ok && !slices.ContainsFunc(m.Values, func(mv *ast.MappingValueNode) bool { return keyText(mv.Key) == "auto" }) {
		ok = false
	}
	if !ok {
		w.fail(path, n, "must be a list of steps, such as [20, 50, 100, 200] or [{max: 20, min: 5}, ...], or {auto: true}, not %s", describe(n))
		return false
	}
	if !w.mapping(n, path, autoStepsType, nil) {
		return false
	}
	var a AutoSteps
	if err := yaml.NodeToValue(m, &a); err != nil {
		w.fail(path, n, "must be {auto: true}: %v", err)
		return false
	}
	if !a.Auto {
		w.fail(path+".auto", m, "is false or missing: write {auto: true} to take the steps from database.sizing_report, or list the steps, such as [20, 50, 100, 200]")
		return false
	}
	w.src.auto = true
	w.src.lines[path] = lineOf(m)
	return false
}

var autoStepsType = reflect.TypeOf(AutoSteps{})
