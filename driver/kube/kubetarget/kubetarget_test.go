package kubetarget

import (
	"strings"
	"testing"
)

// FuzzParse: whatever Parse accepts round-trips through String, and names
// only DNS-like parts.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"kube://prod/ledgerd", "kube://prod/ledgerd/app", "kube://a/b/c/d", "kube://u@h/x", "http://x/y", "kube:///x", "kube://p/-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(tg.String())
		if err != nil || back != tg {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, tg, tg.String(), back, err)
		}
		for _, part := range []string{tg.Namespace, tg.Deployment, tg.Container} {
			if strings.ContainsAny(part, "/@:?# ") {
				t.Fatalf("%q: part %q", s, part)
			}
		}
	})
}
