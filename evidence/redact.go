package evidence

import (
	"fmt"
	"strings"
	"sync"

	"github.com/poolpilot/poolpilot/redact"
)

// Redacted replaces every secret that Redact removes.
const Redacted = redact.Placeholder

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

// Redact removes the well-known forms of secrets from s (see redact.Text).
// Use a Redactor to remove extra registered secrets too.
func Redact(s string) string { return redact.Text(s) }
