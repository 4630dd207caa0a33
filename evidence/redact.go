package evidence

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Redacted replaces every secret that Redact removes.
const Redacted = "[REDACTED]"

// secretKeys are the field names whose values are secrets, in DSNs
// (key=value), JSON, YAML and query strings.
const secretKeys = `password|passwd|pwd|sslpassword|secret|client_secret|token|access_token|auth_token|admin_token|refresh_token|api_key|apikey|authorization`

var redactRules = []struct {
	re   *regexp.Regexp
	repl string
}{
	// URL userinfo: scheme://user:password@host (the password may hold '@').
	{regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"'<>]*):([^\s"'<>/]*)@`), "${1}:" + Redacted + "@"},
	// JSON: "password": "value"
	{regexp.MustCompile(`(?i)("(?:` + secretKeys + `)"\s*:\s*")(?:[^"\\]|\\.)*(")`), "${1}" + Redacted + "${2}"},
	// YAML with a quoted value: password: "value"
	{regexp.MustCompile(`(?im)^(\s*(?:-\s+)?(?:` + secretKeys + `)\s*:[ \t]*")(?:[^"\\]|\\.)*(")`), "${1}" + Redacted + "${2}"},
	// HTTP header or YAML, unquoted: Authorization: Bearer x / password: x
	{regexp.MustCompile(`(?im)^(\s*(?:-\s+)?(?:` + secretKeys + `)\s*:[ \t]*)([^"\s][^\r\n]*)$`), "${1}" + Redacted},
	// An Authorization header inside a line: -H 'Authorization: Basic xyz'
	{regexp.MustCompile(`(?i)(authorization\s*:\s*)(?:(?:basic|bearer|token|digest)\s+)?[A-Za-z0-9._~+/=-]+`), "${1}" + Redacted},
	// key=value (libpq DSN, query strings, logs): password=x, token='x y'
	{regexp.MustCompile(`(?i)\b((?:` + secretKeys + `)\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&;"',]+)`), "${1}" + Redacted},
	// Bearer tokens anywhere.
	{regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+`), "${1}" + Redacted},
}

// MinSecretLen is the shortest extra secret a Redactor accepts: a shorter
// string would redact ordinary words.
const MinSecretLen = 4

// Redactor removes secrets from text: passwords in DSNs (URL and key=value
// forms), bearer tokens, Authorization headers, password/token fields in
// JSON, YAML and query strings, and any extra secret strings registered with
// Add (for example the value of the admin token). It is safe for concurrent
// use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// NewRedactor returns a Redactor that also removes the given secrets.
func NewRedactor(secrets ...string) (*Redactor, error) {
	r := &Redactor{}
	for _, s := range secrets {
		if err := r.Add(s); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Add registers an extra secret string. Empty strings are ignored; strings
// shorter than MinSecretLen are refused.
func (r *Redactor) Add(secret string) error {
	if secret == "" {
		return nil
	}
	if len(secret) < MinSecretLen {
		return fmt.Errorf("secret to redact is %d bytes: at least %d are needed (a shorter one would redact ordinary text)", len(secret), MinSecretLen)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if s == secret {
			return nil
		}
	}
	r.secrets = append(r.secrets, secret)
	return nil
}

// Redact returns s with every secret replaced by Redacted.
func (r *Redactor) Redact(s string) string {
	s = Redact(s)
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		for _, form := range secretForms(sec) {
			s = strings.ReplaceAll(s, form, Redacted)
		}
	}
	return s
}

// secretForms is a secret as it may appear in text: raw and JSON-escaped.
func secretForms(sec string) []string {
	forms := []string{sec}
	if esc := jsonEscape(sec); esc != sec {
		forms = append(forms, esc)
	}
	return forms
}

func jsonEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Redact removes the well-known forms of secrets from s: passwords in DSNs
// and URLs, bearer tokens, Authorization headers, and password/token
// fields. Use a Redactor to remove extra registered secrets too.
func Redact(s string) string {
	for _, rule := range redactRules {
		s = rule.re.ReplaceAllString(s, rule.repl)
	}
	return s
}
