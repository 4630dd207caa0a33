package redact

import (
	"strings"
	"testing"
)

// Forms every function removes (Text and DSN alike).
var commonCases = []formCase{
	{"postgres://ledger:hunter2@db:5432/x", "postgres://ledger:[REDACTED]@db:5432/x"},
	{"postgres://ledger:p@ss@db/x?sslmode=require", "postgres://ledger:[REDACTED]@db/x?sslmode=require"},
	{"dial postgresql://u:p%40ss@h/db?sslmode=disable failed", "dial postgresql://u:[REDACTED]@h/db?sslmode=disable failed"},
	{"cannot parse `postgres://u:hunter2@h:x/db`: x", "cannot parse `postgres://u:[REDACTED]@h:x/db`: x"},
	{"postgres://u@h/db?password=hunter2&sslmode=x", "postgres://u@h/db?password=[REDACTED]&sslmode=x"},
	{"host=db user=ledger password=hunter2 dbname=x", "host=db user=ledger password=[REDACTED] dbname=x"},
	{"host=db password='two words' dbname=x", "host=db password=[REDACTED] dbname=x"},
	{"PASSWORD = s3cret", "PASSWORD = [REDACTED]"},
	{"GET /x?token=abc123&y=1", "GET /x?token=[REDACTED]&y=1"},
	{"Authorization: Bearer abc.def", "Authorization: [REDACTED]"},
	{"curl -H 'Authorization: Basic dXNlcjpwYXNz' http://x", "curl -H 'Authorization: [REDACTED]' http://x"},
	{"sent bearer eyJhbGciOi.x.y now", "sent bearer [REDACTED] now"},
	{"  password: hunter2\n  user: u\n", "  password: [REDACTED]\n  user: u\n"},
	{`  token: "quoted value"`, `  token: "[REDACTED]"`},
	{"admin_token_env: POOLPILOT_ADMIN_TOKEN", "admin_token_env: POOLPILOT_ADMIN_TOKEN"},
	{"dsn_env=DATABASE_URL tokens are fine", "dsn_env=DATABASE_URL tokens are fine"},
	{"postgres://u@h/db", "postgres://u@h/db"},
	{"pool max 200 min 20", "pool max 200 min 20"},
}

type formCase struct{ in, want string }

// checkForms checks f on cases and that f is idempotent on them.
func checkForms(t *testing.T, name string, f func(string) string, cases []formCase) {
	t.Helper()
	for _, c := range cases {
		if got := f(c.in); got != c.want {
			t.Errorf("%s(%q)\n got %q\nwant %q", name, c.in, got, c.want)
		}
		if got := f(f(c.in)); got != c.want {
			t.Errorf("%s is not idempotent on %q: %q", name, c.in, got)
		}
	}
}

func TestText(t *testing.T) {
	checkForms(t, "Text", Text, append([]formCase{
		{`{"password": "a\"b", "user": "u"}`, `{"password": "[REDACTED]", "user": "u"}`},
		{`{"Authorization":"Bearer x"}`, `{"Authorization":"[REDACTED]"}`},
		{`{"dsn":"host=h password=pw"}`, `{"dsn":"host=h password=[REDACTED]"}`},
	}, commonCases...))
}

func TestDSN(t *testing.T) {
	checkForms(t, "DSN", DSN, append([]formCase{
		{"host=h password=ab;cd,ef dbname=d", "host=h password=[REDACTED] dbname=d"},
		{"postgres://u:pa/ss@h/db", "postgres://u:[REDACTED]@h/db"},
		{`postgres://u:pa"ss@h/db`, "postgres://u:[REDACTED]@h/db"},
	}, commonCases...))
}

func TestSecrets(t *testing.T) {
	if got := Secrets("auth failed for s3cret-token", "", "s3cret-token"); got != "auth failed for [REDACTED]" {
		t.Errorf("literal secret: %q", got)
	}
}

func TestDSNSecrets(t *testing.T) {
	got := DSNSecrets("postgres://app:p%40ss%20w@db/x")
	joined := strings.Join(got, "|")
	if !strings.Contains(joined, "p@ss w") || !strings.Contains(joined, "p%40ss") {
		t.Errorf("DSNSecrets = %q, want the raw and escaped password", got)
	}
	if got := DSNSecrets("postgres://app@db/x"); got != nil {
		t.Errorf("no password: %q", got)
	}
	if got := DSNSecrets("host=db password=kv-secret"); len(got) != 1 || got[0] != "kv-secret" {
		t.Errorf("key/value DSN: %q", got)
	}
	if got := DSNPassword("host=db password='two words'"); got != "two words" {
		t.Errorf("quoted key/value password: %q", got)
	}
	text := "connecting as p@ss w failed"
	if r := Secrets(text, DSNSecrets("postgres://app:p%40ss%20w@db/x")...); strings.Contains(r, "p@ss w") {
		t.Errorf("raw password survived: %q", r)
	}
}

func TestURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://user:pw@alerts.example/x", "https://[REDACTED]@alerts.example/x"},
		{"https://tok3n@alerts.example/x", "https://[REDACTED]@alerts.example/x"},
		{"http://127.0.0.1:9090/api?token=abc", "http://127.0.0.1:9090/api?token=[REDACTED]"},
		{"ftp://h/x", "ftp://h/x"},
		{"http://u:pw@h/%zz", "http://u:[REDACTED]@h/%zz"},
	}
	for _, c := range cases {
		if got := URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
