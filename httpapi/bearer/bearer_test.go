package bearer

import (
	"net/http/httptest"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct{ header, want, reason string }{
		{"", "tok-1", "no Authorization header"},
		{"Basic dXNlcjpwYXNz", "tok-1", "Authorization is not a Bearer token"},
		{"Bearer", "tok-1", "Authorization is not a Bearer token"},
		{"Bearer tok-2", "tok-1", "wrong bearer token"},
		{"Bearer tok-1x", "tok-1", "wrong bearer token"},
		{"Bearer tok-1", "tok-1", ""},
		{"bearer  tok-1 ", "tok-1", ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		ok, reason := Check(r, c.want)
		if ok != (c.reason == "") || reason != c.reason {
			t.Errorf("Authorization %q: ok %v reason %q, want reason %q", c.header, ok, reason, c.reason)
		}
	}
}
