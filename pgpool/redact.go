package pgpool

import (
	"net/url"
	"regexp"
	"strings"
)

const redacted = "xxxxx"

var (
	kvPassword  = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)`)
	urlUserinfo = regexp.MustCompile(`(://[^:/@\s]*:)([^@\s]*)(@)`)
)

// Redact returns dsn with its password replaced by "xxxxx": the userinfo
// password of a URL, a password query parameter, or a password=… keyword.
// It is safe on strings that are not DSNs (it only rewrites password
// fragments), so it is also applied to error texts before they are logged.
func Redact(dsn string) string {
	s := urlUserinfo.ReplaceAllString(dsn, "${1}"+redacted+"${3}")
	return kvPassword.ReplaceAllString(s, "${1}"+redacted)
}

// passwordOf returns the password written in dsn, if any, so that it can be
// scrubbed from texts produced by other libraries.
func passwordOf(dsn string) string {
	s := strings.TrimSpace(dsn)
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				return pw
			}
			if pw := u.Query().Get("password"); pw != "" {
				return pw
			}
			return ""
		}
		if m := urlUserinfo.FindStringSubmatch(s); m != nil {
			return m[2]
		}
	}
	if m := kvPassword.FindStringSubmatch(s); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}
