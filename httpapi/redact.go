package httpapi

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces a secret in every text the package shows or logs.
const Redacted = "xxxxx"

var (
	// scheme://user:password@host — the password part of a URL's userinfo.
	urlPassword = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):([^@\s]*)@`)
	// password=secret or password='se cret' in a key/value connection string.
	kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'&]+)`)
)

// Redact removes passwords from s: the password of any URL
// (postgres://user:secret@host → postgres://user:xxxxx@host), any
// password=… pair of a key/value connection string or query string, and
// every literal secret given (empty ones are ignored).
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	s = urlPassword.ReplaceAllString(s, "${1}:"+Redacted+"@")
	return kvPassword.ReplaceAllString(s, "${1}"+Redacted)
}

// URLSecrets returns the password of a connection URL in the forms it can
// appear in text (raw and URL-escaped), for Options.Secrets. It returns nil
// when the URL has no password or does not parse.
func URLSecrets(rawURL string) []string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return kvSecrets(rawURL)
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return nil
	}
	out := []string{pw}
	if esc := url.QueryEscape(pw); esc != pw {
		out = append(out, esc)
	}
	if esc := url.PathEscape(pw); esc != pw && esc != out[len(out)-1] {
		out = append(out, esc)
	}
	return out
}

// kvSecrets finds the password of a key/value connection string.
func kvSecrets(dsn string) []string {
	m := kvPassword.FindStringSubmatch(dsn)
	if m == nil {
		return nil
	}
	pw := strings.Trim(m[2], "'")
	if pw == "" {
		return nil
	}
	return []string{pw}
}
