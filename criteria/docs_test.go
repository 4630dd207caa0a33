package criteria

import (
	"os"
	"strings"
	"testing"
)

// TestDocsNameEveryMetric keeps docs/criteria.md in step with the vocabulary.
func TestDocsNameEveryMetric(t *testing.T) {
	b, err := os.ReadFile("../docs/criteria.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, m := range Vocabulary() {
		// db.connections.active, `.idle`, … are documented together.
		short := m.Name[max(0, strings.LastIndex(m.Name, ".")):]
		if !strings.Contains(doc, "`"+m.Name+"`") && !strings.Contains(doc, "`"+short+"`") {
			t.Errorf("docs/criteria.md does not document metric %s", m.Name)
		}
	}
	for _, s := range SeedDefaults(SeedTargets{}) {
		if !strings.Contains(doc, "| "+s.Name+" |") || !strings.Contains(doc, "`"+s.Expr+"`") {
			t.Errorf("docs/criteria.md default-set table lacks %s (%s)", s.Name, s.Expr)
		}
	}
}
