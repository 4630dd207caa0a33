package prometheus

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// rulesDir holds the rules under test, from this package's folder.
const rulesDir = "../../docs/prometheus"

// promtool finds the real promtool; a missing one fails the test (the
// Debian package prometheus ships it).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (apt-get install prometheus): %v", err)
	}
	return p
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = rulesDir // the rules and their unit tests name each other by relative path
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestRulesPassPromtoolCheck(t *testing.T) {
	out, err := run(t, "check", "rules", "poolpilot.rules.yml")
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if !strings.Contains(out, "SUCCESS: 22 rules found") {
		t.Errorf("promtool check rules: %s (update the count when rules change)", out)
	}
}

// TestRulesUnitTests runs poolpilot.rules_test.yml: the fleet error-rate
// alert fires when one of three instances degrades to 10% errors and not
// when it stays at 1%.
func TestRulesUnitTests(t *testing.T) {
	out, err := run(t, "test", "rules", "poolpilot.rules_test.yml")
	if err != nil || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// TestPromtoolCatchesABrokenRule proves the check can fail: the same file
// with one expression broken is refused.
func TestPromtoolCatchesABrokenRule(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(rulesDir, "poolpilot.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(b), "job:http_requests_errors:rate5m / job:http_requests:rate5m", "job:http_requests_errors:rate5m / / job:http_requests:rate5m", 1)
	if broken == string(b) {
		t.Fatal("the expression to break is gone from poolpilot.rules.yml")
	}
	path := filepath.Join(t.TempDir(), "broken.rules.yml")
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "check", "rules", path); err == nil {
		t.Fatalf("promtool accepted a broken rule:\n%s", out)
	}
}
