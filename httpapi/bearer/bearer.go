// Package bearer checks "Authorization: Bearer <token>" for every HTTP
// endpoint poolpilot guards with a token (a service's admin routes, the
// dashboard's rollback and /metrics). It imports only the standard library.
package bearer

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Check reports whether r carries "Authorization: Bearer <token>" with
// token want, and why not. Both sides are hashed before the constant-time
// compare so that neither content nor length leaks through timing.
func Check(r *http.Request, want string) (ok bool, reason string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return false, "no Authorization header"
	}
	scheme, token, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return false, "Authorization is not a Bearer token"
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	exp := sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], exp[:]) != 1 {
		return false, "wrong bearer token"
	}
	return true, ""
}
