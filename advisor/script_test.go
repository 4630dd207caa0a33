package advisor

import (
	"strings"
	"testing"
)

func TestParseScript(t *testing.T) {
	s, err := ParseScript([]byte("-- a comment\nbegin;\n\nupdate t\n   set x = x + 1\n   where id = 1;  \nselect 1; select 2;\ncommit"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Statement{{2, "begin"}, {4, "update t\n   set x = x + 1\n   where id = 1"}, {7, "select 1; select 2"}, {8, "commit"}}
	if len(s.Statements) != len(want) {
		t.Fatalf("statements %+v", s.Statements)
	}
	for i := range want {
		if s.Statements[i] != want[i] {
			t.Errorf("statement %d: %+v, want %+v", i, s.Statements[i], want[i])
		}
	}
	for _, bad := range []string{"", "-- only a comment\n", ";\n ;\n"} {
		if _, err := ParseScript([]byte(bad)); err == nil || !strings.Contains(err.Error(), "no SQL statement") {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}
