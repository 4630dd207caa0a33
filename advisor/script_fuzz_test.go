package advisor

import (
	"strings"
	"testing"
)

// FuzzParseScript: any input either fails with the "no SQL statement" error
// or yields non-blank statements in file order (strictly increasing lines).
func FuzzParseScript(f *testing.F) {
	for _, s := range []string{"select 1;", "begin;\nupdate t set x = 1;\ncommit;\n", "-- c\n\n;\n", "select $$a;\nb$$;", "a;b;\nc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseScript([]byte(in))
		if err != nil {
			if !strings.Contains(err.Error(), "no SQL statement") && !strings.Contains(err.Error(), "read the script") {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		last := 0
		for _, st := range s.Statements {
			if strings.TrimSpace(st.SQL) == "" || st.Line <= last {
				t.Fatalf("statement %+v after line %d from %q", st, last, in)
			}
			last = st.Line
		}
	})
}
