package httpapi

import (
	"net/http"

	"github.com/poolpilot/poolpilot/httpapi/bearer"
)

// authorized reports whether r carries "Authorization: Bearer <token>" with
// the configured token, and why not (see bearer.Check).
func (s *Server) authorized(r *http.Request) (ok bool, reason string) {
	return bearer.Check(r, s.opts.AdminToken)
}

// guard answers 404 when admin is disabled and 401 when r is not
// authorized; it returns true when the request may proceed.
func (s *Server) guard(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.AdminToken == "" {
		http.NotFound(w, r)
		return false
	}
	if ok, reason := s.authorized(r); !ok {
		s.log.Warn("admin: unauthorized request", "method", r.Method, "path", r.URL.Path,
			"remote", r.RemoteAddr, "reason", reason)
		w.Header().Set("WWW-Authenticate", `Bearer realm="poolpilot"`)
		writeError(w, http.StatusUnauthorized,
			"unauthorized: send Authorization: Bearer <POOLPILOT_ADMIN_TOKEN>")
		return false
	}
	return true
}

// RequireToken guards a service's own admin routes with the same bearer
// token as PUT /admin/pool: 404 when no token is configured (admin
// disabled), 401 with WWW-Authenticate: Bearer without or with a wrong
// token, otherwise h.
func (s *Server) RequireToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.guard(w, r) {
			h.ServeHTTP(w, r)
		}
	})
}
