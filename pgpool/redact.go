package pgpool

import "github.com/poolpilot/poolpilot/redact"

// Redact returns dsn with its password replaced by redact.Placeholder: the
// userinfo password of a URL, a password query parameter, or a password=…
// keyword (see redact.DSN). It is safe on strings that are not DSNs, so it
// is also applied to error texts before they are logged.
func Redact(dsn string) string { return redact.DSN(dsn) }

// passwordOf returns the password written in dsn, if any, so that it can be
// scrubbed from texts produced by other libraries.
func passwordOf(dsn string) string { return redact.DSNPassword(dsn) }
