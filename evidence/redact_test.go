package evidence_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

func TestRedactForms(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://ledger:hunter2@db:5432/x", "postgres://ledger:[REDACTED]@db:5432/x"},
		{"postgres://ledger:p@ss@db/x?sslmode=require", "postgres://ledger:[REDACTED]@db/x?sslmode=require"},
		{"host=db user=ledger password=hunter2 dbname=x", "host=db user=ledger password=[REDACTED] dbname=x"},
		{"host=db password='two words' dbname=x", "host=db password=[REDACTED] dbname=x"},
		{"GET /x?token=abc123&y=1", "GET /x?token=[REDACTED]&y=1"},
		{"Authorization: Bearer abc.def", "Authorization: [REDACTED]"},
		{"curl -H 'Authorization: Basic dXNlcjpwYXNz' http://x", "curl -H 'Authorization: [REDACTED]' http://x"},
		{"sent bearer eyJhbGciOi.x.y now", "sent bearer [REDACTED] now"},
		{`{"password": "a\"b", "user": "u"}`, `{"password": "[REDACTED]", "user": "u"}`},
		{`{"Authorization":"Bearer x"}`, `{"Authorization":"[REDACTED]"}`},
		{"  password: hunter2\n  user: u\n", "  password: [REDACTED]\n  user: u\n"},
		{`  token: "quoted value"`, `  token: "[REDACTED]"`},
		{"admin_token_env: POOLPILOT_ADMIN_TOKEN", "admin_token_env: POOLPILOT_ADMIN_TOKEN"},
		{"dsn_env=DATABASE_URL tokens are fine", "dsn_env=DATABASE_URL tokens are fine"},
		{"pool max 200 min 20", "pool max 200 min 20"},
	}
	for _, c := range cases {
		if got := evidence.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
		if got := evidence.Redact(evidence.Redact(c.in)); got != c.want {
			t.Errorf("Redact is not idempotent on %q: %q", c.in, got)
		}
	}
}

func TestRedactorExtraSecrets(t *testing.T) {
	r, err := evidence.NewRedactor("tok-12345", `we"ird`)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Redact(`x tok-12345 y {"v":"we\"ird"}`)
	if strings.Contains(got, "tok-12345") || strings.Contains(got, `we\"ird`) {
		t.Fatalf("secret left: %q", got)
	}
	if _, err := evidence.NewRedactor("abc"); err == nil || !strings.Contains(err.Error(), "at least 4") {
		t.Fatalf("short secret accepted: %v", err)
	}
}

// TestNoSecretOnDisk plants known secrets in every kind of input (plan,
// logs, audit data, actor) and scans every byte of the folder for them.
func TestNoSecretOnDisk(t *testing.T) {
	for name, sc := range scenarios {
		root := t.TempDir()
		evidencetest.Build(t, root, sc)
		scanForSecrets(t, name, root)
	}
	root := t.TempDir()
	f, err := evidence.Open(root, evidence.Options{Plan: "p", Secrets: []string{evidencetest.AdminToken}})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.Append(evidence.EventNote, evidence.Note{Text: "dsn postgres://u:" + evidencetest.DBPassword + "@h/db token " + evidencetest.AdminToken}))
	must(f.AppendAs("op "+evidencetest.AdminToken, evidence.EventNote, map[string]any{"password": evidencetest.DBPassword, "n": 1}))
	must(f.Write("notes.txt", []byte("password="+evidencetest.DBPassword+"\nAuthorization: Bearer "+evidencetest.AdminToken+"\n")))
	must(f.WriteJSON("x.json", map[string]string{"dsn": "postgres://u:" + evidencetest.DBPassword + "@h/db", "t": evidencetest.AdminToken}))
	if _, err := f.Close(); err != nil {
		t.Fatal(err)
	}
	scanForSecrets(t, "api", root)
	if res, err := evidence.Verify(f.Dir(), nil); err != nil || !res.OK {
		t.Fatalf("redacted folder does not verify: %v %+v", err, res.Problems)
	}
}

func scanForSecrets(t *testing.T, label, root string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for _, s := range []string{evidencetest.DBPassword, evidencetest.AdminToken} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s: secret %q found in %s", label, s, p)
			}
		}
		return nil
	})
	if err != nil || n < 3 {
		t.Fatalf("%s: scanned %d files: %v", label, n, err)
	}
}
