package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/pgpool"
)

// ResizeTimeout bounds a live resize started by PUT /admin/pool; the resize
// is not cancelled when the client hangs up.
const ResizeTimeout = 30 * time.Second

// ResizeRequest is the body of PUT /admin/pool. A field left out keeps its
// current value.
type ResizeRequest struct {
	Max *int `json:"max"`
	Min *int `json:"min"`
}

// ConfigJSON is the pool configuration as PUT /admin/pool answers it; the
// field names are those of the "pool" object of /healthz, so a client may
// decode it into poolpilot.PoolStats as well.
type ConfigJSON struct {
	Max                 int                             `json:"max"`
	Min                 int                             `json:"min"`
	IdleTimeoutMS       int64                           `json:"idle_timeout_ms"`
	ConnectionTimeoutMS int64                           `json:"connection_timeout_ms"`
	MaxLifetimeMS       int64                           `json:"max_lifetime_ms"`
	HealthCheckPeriodMS int64                           `json:"health_check_period_ms"`
	Pooler              string                          `json:"pooler,omitempty"`
	Source              map[string]poolpilot.Provenance `json:"source"`
}

// ConfigDoc converts a pool configuration to its JSON form.
func ConfigDoc(c poolpilot.PoolConfig) ConfigJSON {
	return ConfigJSON{
		Max: c.Max, Min: c.Min,
		IdleTimeoutMS:       c.IdleTimeout.Milliseconds(),
		ConnectionTimeoutMS: c.ConnectTimeout.Milliseconds(),
		MaxLifetimeMS:       c.MaxLifetime.Milliseconds(),
		HealthCheckPeriodMS: c.HealthCheckPeriod.Milliseconds(),
		Pooler:              c.Pooler,
		Source:              c.Source,
	}
}

// errBodyTooLarge marks a body over MaxAdminBody.
var errBodyTooLarge = fmt.Errorf("request body is larger than %d bytes: send {\"max\":N,\"min\":M}", MaxAdminBody)

// parseAdminBody reads a ResizeRequest strictly: one JSON object, known
// fields only, integers only, nothing after it, at least one field.
func parseAdminBody(body []byte) (ResizeRequest, error) {
	var req ResizeRequest
	if len(body) > MaxAdminBody {
		return req, errBodyTooLarge
	}
	if len(bytes.TrimSpace(body)) == 0 || bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return req, errors.New(`request body is empty: send {"max":N,"min":M}`)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf(`request body is not {"max":N,"min":M} with integers: %s`, jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, errors.New(`request body has data after the JSON object: send one {"max":N,"min":M}`)
	}
	if req.Max == nil && req.Min == nil {
		return req, errors.New(`request body sets neither "max" nor "min": send {"max":N,"min":M}`)
	}
	return req, nil
}

// jsonProblem turns a decoding error into a short reason.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %q must be an integer, got %s", te.Field, te.Value)
		}
		return "the body must be a JSON object, got " + te.Value
	}
	return err.Error()
}

// target applies req to the current configuration and validates the result
// with pgpool.ValidateSize: the rules and wording of DB_POOL_MAX and
// DB_POOL_MIN, naming the body's fields "max" and "min".
func target(req ResizeRequest, cur poolpilot.PoolConfig) (max, min int, err error) {
	max, min = cur.Max, cur.Min
	if req.Max != nil {
		max = *req.Max
	}
	if req.Min != nil {
		min = *req.Min
	}
	return max, min, pgpool.ValidateSize(max, min)
}

// serveAdmin answers PUT /admin/pool.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if s.opts.AdminToken == "" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPut {
		methodNotAllowed(w, http.MethodPut)
		return
	}
	if !s.guard(w, r) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxAdminBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, errBodyTooLarge.Error())
		return
	} else if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read the request body: "+s.redact(err.Error()))
		return
	}
	req, err := parseAdminBody(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, s.redact(err.Error()))
		return
	}
	s.resizeTo(w, r, req)
}

// resizeTo validates and applies a resize, one at a time.
func (s *Server) resizeTo(w http.ResponseWriter, r *http.Request, req ResizeRequest) {
	if s.opts.Pool == nil {
		writeError(w, http.StatusServiceUnavailable, "no pool configured")
		return
	}
	cur := s.opts.Pool.Config()
	max, min, err := target(req, cur)
	if err != nil {
		writeError(w, http.StatusBadRequest, s.redact(err.Error()))
		return
	}
	if !s.resize.TryLock() {
		writeError(w, http.StatusConflict, "another resize is in progress: retry when it has finished")
		return
	}
	defer s.resize.Unlock()
	who := []any{"remote", r.RemoteAddr, "user_agent", r.UserAgent(),
		"from_max", cur.Max, "from_min", cur.Min, "to_max", max, "to_min", min}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), ResizeTimeout)
	defer cancel()
	start := time.Now()
	if err := s.opts.Pool.Resize(ctx, max, min); err != nil {
		code := resizeStatus(err)
		msg := s.redact(err.Error())
		s.log.Warn("admin: pool resize failed", append(who, "status", code, "err", msg)...)
		writeError(w, code, "resize failed: "+msg)
		return
	}
	s.log.Info("admin: pool resized", append(who, "took", time.Since(start))...)
	writeJSON(w, http.StatusOK, ConfigDoc(s.opts.Pool.Config()))
}

// resizeStatus maps a Resize error to a status: 400 for a configuration
// the pool refuses, 409 for a conflict with the pool's state (another
// resize, the pool closing), 500 otherwise.
func resizeStatus(err error) int {
	var ce *pgpool.ConfigError
	switch {
	case errors.As(err, &ce), poolpilot.ExitCode(err) == poolpilot.ExitBadInput:
		return http.StatusBadRequest
	case errors.Is(err, poolpilot.ErrResizeConflict), errors.Is(err, pgpool.ErrClosed):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
