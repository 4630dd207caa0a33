package plan

import (
	"strings"
	"testing"
)

// A bad duration is reported at its field and line, not at "$" (the
// decoder gives UnmarshalText errors no position).
func TestBadDurationNamesItsField(t *testing.T) {
	b, err := Init(SeedInitOptions())
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "verify_timeout: 60s", "verify_timeout: sixty", 1)
	_, err = Parse([]byte(text))
	if err == nil || !strings.Contains(err.Error(), "verify_timeout") || !strings.Contains(err.Error(), "sixty") {
		t.Fatalf("err %v: want it to name verify_timeout and the value", err)
	}
	line := 0
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "verify_timeout: sixty") {
			line = i + 1
		}
	}
	if pe, ok := err.(*Error); !ok || pe.Errors[0].Line != line {
		t.Errorf("err %#v: want line %d", err, line)
	}
}
