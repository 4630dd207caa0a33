package httpapi

import "github.com/poolpilot/poolpilot/redact"

// Redacted replaces a secret in every text the package shows or logs.
const Redacted = redact.Placeholder

// Redact removes passwords from s: every literal secret given (empty ones
// are ignored), then the password of any URL or connection string
// (postgres://user:secret@host → postgres://user:[REDACTED]@host) and the
// other forms redact.DSN knows.
func Redact(s string, secrets ...string) string { return redact.DSN(redact.Secrets(s, secrets...)) }

// URLSecrets returns the password of a connection URL in the forms it can
// appear in text (raw and URL-escaped), for Options.Secrets. It returns nil
// when the URL has no password.
func URLSecrets(rawURL string) []string { return redact.DSNSecrets(rawURL) }
