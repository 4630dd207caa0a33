package runner

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The runner keeps the phases; a run is assembled elsewhere (assemble).
// These bounds keep it that way (issue #16): at most 10 of poolpilot's
// packages imported, at most 10 options.
func TestRunnerStaysSmall(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			if path == "github.com/poolpilot/poolpilot" || strings.HasPrefix(path, "github.com/poolpilot/poolpilot/") {
				own[path] = true
			}
		}
	}
	if len(own) > 10 {
		var names []string
		for p := range own {
			names = append(names, p)
		}
		sort.Strings(names)
		t.Errorf("runner imports %d of poolpilot's packages, want at most 10:\n%s", len(own), strings.Join(names, "\n"))
	}
	if n := reflect.TypeOf(Options{}).NumField(); n > 10 {
		t.Errorf("runner.Options has %d fields, want at most 10: group them, or assemble what they carry", n)
	}
}
