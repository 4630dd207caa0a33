package httpapi

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://app:s3cret@db:5432/x", "postgres://app:xxxxx@db:5432/x"},
		{"dial postgresql://u:p%40ss@h/db?sslmode=disable failed", "dial postgresql://u:xxxxx@h/db?sslmode=disable failed"},
		{"postgres://app@db/x", "postgres://app@db/x"},
		{"host=db user=app password=s3cret dbname=x", "host=db user=app password=xxxxx dbname=x"},
		{"host=db password='s3 cret' dbname=x", "host=db password=xxxxx dbname=x"},
		{"postgres://h/db?password=s3cret&sslmode=disable", "postgres://h/db?password=xxxxx&sslmode=disable"},
		{"PASSWORD = s3cret", "PASSWORD = xxxxx"},
		{"nothing secret here", "nothing secret here"},
	}
	for _, c := range cases {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Redact("auth failed for s3cret-token", "", "s3cret-token"); got != "auth failed for xxxxx" {
		t.Errorf("literal secret: %q", got)
	}
}

func TestURLSecrets(t *testing.T) {
	got := URLSecrets("postgres://app:p%40ss%20w@db/x")
	joined := strings.Join(got, "|")
	if !strings.Contains(joined, "p@ss w") || !strings.Contains(joined, "p%40ss") {
		t.Errorf("URLSecrets = %q, want the raw and escaped password", got)
	}
	if got := URLSecrets("postgres://app@db/x"); got != nil {
		t.Errorf("no password: %q", got)
	}
	if got := URLSecrets("host=db password=kv-secret"); len(got) != 1 || got[0] != "kv-secret" {
		t.Errorf("key/value DSN: %q", got)
	}
	text := "connecting as p@ss w failed"
	if r := Redact(text, URLSecrets("postgres://app:p%40ss%20w@db/x")...); strings.Contains(r, "p@ss w") {
		t.Errorf("raw password survived: %q", r)
	}
}
