package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/poolpilot/poolpilot/pgpool"
)

// FuzzAdminBody checks the PUT /admin/pool body parser never panics, and
// that whatever it accepts is a well-formed request that round-trips and
// is judged by ValidateSize consistently.
func FuzzAdminBody(f *testing.F) {
	for _, s := range []string{
		`{"max":200,"min":20}`, `{"max":10}`, `{"min":0}`, `{}`, `null`, ``, `[]`,
		`{"max":"5"}`, `{"max":1.5}`, `{"max":1,"x":2}`, `{"max":1}{"max":2}`, `{"max":-1,"min":-2}`,
		`{"max":99999999999999999999999}`, `{"MAX":3}`, " \t{\"max\" : 7 }\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseAdminBody(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if req.Max == nil && req.Min == nil {
			t.Fatalf("accepted %q with neither field", body)
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		req2, err := parseAdminBody(again)
		if err != nil {
			t.Fatalf("accepted %q but not its re-encoding %s: %v", body, again, err)
		}
		if (req.Max == nil) != (req2.Max == nil) || (req.Max != nil && *req.Max != *req2.Max) ||
			(req.Min == nil) != (req2.Min == nil) || (req.Min != nil && *req.Min != *req2.Min) {
			t.Fatalf("round trip changed %q into %s", body, again)
		}
		max, min, verr := target(req, newFakePool().cfg)
		if verr == nil && (max < 1 || max > pgpool.MaxPoolMax || min < 0 || min > max) {
			t.Fatalf("%q gives max %d min %d, yet it validated", body, max, min)
		}
	})
}
