package poolpilot_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/criteria"
)

// metricConstants parses metric.go: constant name → metric name.
func metricConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "metric.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, id := range vs.Names {
				lit := vs.Values[i].(*ast.BasicLit)
				out[id.Name], _ = strconv.Unquote(lit.Value)
			}
		}
		return true
	})
	return out
}

// TestMetricConstantsAreTheVocabulary: metric.go names every metric of the
// criteria vocabulary, and nothing else.
func TestMetricConstantsAreTheVocabulary(t *testing.T) {
	var consts, vocab []string
	for _, v := range metricConstants(t) {
		consts = append(consts, v)
	}
	for _, m := range criteria.Vocabulary() {
		if !strings.HasPrefix(m.Name, "promql") {
			vocab = append(vocab, m.Name)
		}
	}
	sort.Strings(consts)
	sort.Strings(vocab)
	if strings.Join(consts, " ") != strings.Join(vocab, " ") {
		t.Errorf("metric.go names\n  %v\nthe criteria vocabulary is\n  %v", consts, vocab)
	}
}

// TestMetricNamesSpelledOnce: outside tests, a pool.* or db.* metric name
// is written as a string literal only in metric.go; every other package
// uses the constant.
func TestMetricNamesSpelledOnce(t *testing.T) {
	names := map[string]string{}
	for c, v := range metricConstants(t) {
		if strings.Contains(v, ".") {
			names[v] = c
		}
	}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || path == "metric.go" {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, _ := strconv.Unquote(lit.Value); names[s] != "" {
					t.Errorf("%s: %q: use poolpilot.%s", fset.Position(lit.Pos()), s, names[s])
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
