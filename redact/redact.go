package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Placeholder replaces every secret this package removes.
const Placeholder = "[REDACTED]"

// secretKeys are the field names whose values are secrets, in DSNs
// (key=value), JSON, YAML and query strings.
const secretKeys = `password|passwd|pwd|sslpassword|secret|client_secret|token|access_token|auth_token|admin_token|refresh_token|api_key|apikey|authorization`

type rule struct {
	re   *regexp.Regexp
	repl string
}

var textRules = []rule{
	// URL userinfo: scheme://user:password@host (the password may hold '@').
	{regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"'<>]*):([^\s"'<>/]*)@`), "${1}:" + Placeholder + "@"},
	// JSON: "password": "value"
	{regexp.MustCompile(`(?i)("(?:` + secretKeys + `)"\s*:\s*")(?:[^"\\]|\\.)*(")`), "${1}" + Placeholder + "${2}"},
	// YAML with a quoted value: password: "value"
	{regexp.MustCompile(`(?im)^(\s*(?:-\s+)?(?:` + secretKeys + `)\s*:[ \t]*")(?:[^"\\]|\\.)*(")`), "${1}" + Placeholder + "${2}"},
	// HTTP header or YAML, unquoted: Authorization: Bearer x / password: x
	{regexp.MustCompile(`(?im)^(\s*(?:-\s+)?(?:` + secretKeys + `)\s*:[ \t]*)([^"\s][^\r\n]*)$`), "${1}" + Placeholder},
	// An Authorization header inside a line: -H 'Authorization: Basic xyz'
	{regexp.MustCompile(`(?i)(authorization\s*:\s*)(?:(?:basic|bearer|token|digest)\s+)?[A-Za-z0-9._~+/=-]+`), "${1}" + Placeholder},
	// key=value (libpq DSN, query strings, logs): password=x, token='x y'
	{regexp.MustCompile(`(?i)\b((?:` + secretKeys + `)\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&;"',]+)`), "${1}" + Placeholder},
	// Bearer tokens anywhere.
	{regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+`), "${1}" + Placeholder},
}

var (
	// dsnUserinfo is a URL's userinfo password up to the first '@'.
	dsnUserinfo = regexp.MustCompile(`(://[^:/@\s]*:)([^@\s]*)(@)`)
	// dsnPassword is a key=value password up to white space or '&'.
	dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)`)
)

// Text removes the well-known forms of secrets from s: passwords in DSNs
// and URLs, bearer tokens, Authorization headers, and password/token
// fields in JSON, YAML and query strings. It is idempotent.
func Text(s string) string {
	for _, r := range textRules {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

// DSN is Text for a connection string or an error text that quotes one:
// a password ends only at white space ('&' in a query string), so one
// holding '/', ';', ',' or quotes is removed whole. Not for JSON (a value's
// closing quote would go too).
func DSN(s string) string {
	s = Text(s)
	s = dsnUserinfo.ReplaceAllString(s, "${1}"+Placeholder+"${3}")
	return dsnPassword.ReplaceAllString(s, "${1}"+Placeholder)
}

// Secrets replaces every literal secret in s (empty ones are ignored).
func Secrets(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, Placeholder)
		}
	}
	return s
}

// DSNPassword returns the password written in a connection string (URL or
// key=value form), or "".
func DSNPassword(dsn string) string {
	s := strings.TrimSpace(dsn)
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				return pw
			}
			return u.Query().Get("password")
		}
		if m := dsnUserinfo.FindStringSubmatch(s); m != nil {
			return m[2]
		}
	}
	if m := dsnPassword.FindStringSubmatch(s); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}

// DSNSecrets returns the password of a connection string in the forms it
// can appear in text (raw, query-escaped and path-escaped), for Secrets;
// nil when there is none.
func DSNSecrets(dsn string) []string {
	pw := DSNPassword(dsn)
	if pw == "" {
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

// userinfoMark stands in for the userinfo while a URL is printed: url
// escapes the brackets of Placeholder in userinfo.
const userinfoMark = "poolpilot-redacted-userinfo"

// URL returns raw for an error message with its userinfo (user and
// password: either may be a token) and any secret query value replaced by
// Placeholder. A URL that does not parse is returned through DSN.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return DSN(raw)
	}
	if u.User == nil {
		return Text(raw)
	}
	u.User = url.User(userinfoMark)
	return Text(strings.Replace(u.String(), userinfoMark+"@", Placeholder+"@", 1))
}
