package main

import (
	"bytes"
	"strings"
	"testing"
)

// complete runs cobra's hidden __complete command in-process and returns
// the candidates and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	out, stderr, code := runCLI(t, nil, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d: %s", args, code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func TestCompleteWorkload(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"load", "sql", "--workload", ""}, "select1 ledger"},
		{[]string{"load", "http", "--workload", ""}, "ledger"},
		{[]string{"size", "--workload", ""}, "select1 ledger"},
		{[]string{"plan", "init", "--workload", ""}, "ledger http select1 none"},
		{[]string{"report", "DIR", "--format", ""}, "md html json"},
		{[]string{"demo", "--scenario", ""}, "success rollback staircase both all"},
	} {
		got, directive := complete(t, c.args...)
		if strings.Join(got, " ") != c.want || directive != ":4" { // 4: no file completion
			t.Errorf("%v: %v %s, want %s :4", c.args, got, directive, c.want)
		}
	}
}

// A plan argument or --plan completes to YAML files, a run folder to
// directories.
func TestCompletePlanFiles(t *testing.T) {
	for _, args := range [][]string{{"run", ""}, {"plan", "check", ""}, {"preflight", ""}, {"watch", "--plan", ""}} {
		got, directive := complete(t, args...)
		if strings.Join(got, " ") != "yaml yml" || directive != ":8" { // 8: filter by extension
			t.Errorf("%v: %v %s", args, got, directive)
		}
	}
	if got, directive := complete(t, "report", ""); len(got) != 0 || directive != ":16" { // 16: directories
		t.Errorf("report DIR: %v %s", got, directive)
	}
}

// Every flag with completion values exists, and its help names each value.
func TestFlagValuesMatchTheFlags(t *testing.T) {
	root := newRoot(&env{getenv: func(string) string { return "" }, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
	for path, flags := range flagValues {
		c, _, err := root.Find(strings.Fields(path)[1:])
		if err != nil || c.CommandPath() != path {
			t.Errorf("%s: no such command (%v)", path, err)
			continue
		}
		for name, values := range flags {
			f := c.Flags().Lookup(name)
			if f == nil {
				t.Errorf("%s has no --%s", path, name)
				continue
			}
			for _, v := range values {
				if !strings.Contains(f.Usage, v) {
					t.Errorf("%s --%s: its help %q does not name %s", path, name, f.Usage, v)
				}
			}
		}
	}
}

// Every value a flag accepts is offered, and no other: each command refuses
// a bad value with a message listing the values it accepts, and that list
// is the completion's.
func TestFlagValuesAreWhatTheCommandsAccept(t *testing.T) {
	cases := []struct {
		path, flag string
		args       []string
		after      string // the accepted values follow this in the refusal
	}{
		{"poolpilot load http", "workload", []string{"load", "http", "--url", "http://127.0.0.1:1/", "--rate", "1", "--duration", "1s"}, "workloads are: "},
		{"poolpilot load sql", "workload", []string{"load", "sql", "--rate", "1", "--duration", "1s"}, "workloads are "},
		{"poolpilot plan init", "workload", []string{"plan", "init"}, "must be "},
		{"poolpilot plan init", "driver", []string{"plan", "init"}, "use "},
		{"poolpilot size", "workload", []string{"size"}, "workloads are "},
		{"poolpilot report", "format", []string{"report", t.TempDir()}, "use "},
		{"poolpilot demo", "scenario", []string{"demo"}, "use "},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.path+" --"+c.flag] = true
		_, stderr, code := runCLI(t, nil, append(c.args, "--"+c.flag, "bogus")...)
		_, list, ok := strings.Cut(stderr, c.after)
		if code != 2 || !ok {
			t.Errorf("%s --%s bogus: exit %d, no %q in %q", c.path, c.flag, code, c.after, stderr)
			continue
		}
		list, _, _ = strings.Cut(strings.TrimSpace(list), " (")
		accepted := strings.FieldsFunc(strings.NewReplacer(" or ", ",", " and ", ",").Replace(list), func(r rune) bool { return r == ',' || r == ' ' })
		if got := flagValues[c.path][c.flag]; strings.Join(got, " ") != strings.Join(accepted, " ") {
			t.Errorf("%s --%s completes to %v, the command accepts %v", c.path, c.flag, got, accepted)
		}
	}
	for path, flags := range flagValues {
		for name := range flags {
			if !covered[path+" --"+name] {
				t.Errorf("%s --%s: no case here checks its values", path, name)
			}
		}
	}
}
