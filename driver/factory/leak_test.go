package factory

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// leak matches code that looks at a driver's name: the plan's driver
// constants, or a Name() or .Driver compared with a string.
var leak = regexp.MustCompile(`\bDriver(Admin|Restart|Kube)\b|Name\(\)\s*[!=]=\s*"[^"]|\.Driver\s*[!=]=\s*"[^"]|case\s+"(admin|restart|kube)"`)

func TestLeakPattern(t *testing.T) {
	for _, s := range []string{`if p.Driver == plan.DriverKube {`, `case plan.DriverRestart:`, `c.Driver.Name() != "admin"`,
		`p.Driver == "kube"`, `case "restart":`} {
		if !leak.MatchString(s) {
			t.Errorf("not caught: %s", s)
		}
	}
	for _, s := range []string{`d.Name()`, `if d.Driver != "" {`, `say("apply with the %s driver", p.Driver)`, `if w, ok := c.Driver.(driver.Waiter); ok {`} {
		if leak.MatchString(s) {
			t.Errorf("caught: %s", s)
		}
	}
}

// Only the driver packages and plan validation know the drivers by name;
// everything else asks a driver what it declares (package driver's
// interfaces, FleetFacter) and builds one with New.
func TestNoCodeOutsideTheDriversBranchesOnTheDriversName(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	seen := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch {
			case rel == "driver", rel == "plan", d.Name() == "node_modules", d.Name() == "testdata", strings.HasPrefix(d.Name(), "."):
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		seen++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if leak.MatchString(line) {
				t.Errorf("%s:%d branches on the driver's name: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 50 {
		t.Fatalf("only %d Go files read under %s", seen, root)
	}
}
