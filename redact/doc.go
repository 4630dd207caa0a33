// Package redact removes secrets from text before it is logged, shown or
// written as evidence. Every secret it removes is replaced by one
// placeholder, Placeholder ("[REDACTED]").
//
//   - Text removes the well-known forms: passwords in URLs and key=value
//     connection strings, bearer tokens, Authorization headers, and
//     password/token fields in JSON, YAML and query strings.
//   - DSN is Text plus wider rules for a connection string or an error
//     about one (a password may hold '/', ';' or quotes there).
//   - Secrets replaces literal secret strings; DSNSecrets lists the forms in
//     which a connection string's password can appear in other text.
//   - URL hides the userinfo of a URL echoed in an error.
//
// It imports only the standard library.
package redact
