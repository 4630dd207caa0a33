package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// Middleware measures every request next serves: the Prometheus counter
// http_requests_total{code,method}, the histogram
// http_request_duration_seconds{code,method}, and the windowed statistics
// of RequestStats (5xx answers count as errors). A panic in next is
// recovered, logged with its stack and answered 500 (counted as an error);
// http.ErrAbortHandler is counted and then re-panicked so that net/http
// aborts the connection as it expects. Requests to the package's own routes
// are not counted unless Options.CountOwnRoutes is set.
func (s *Server) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.opts.CountOwnRoutes && isOwnRoute(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		start := s.clock.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			p := recover()
			if p != nil && !errors.Is(asError(p), http.ErrAbortHandler) {
				s.log.Error("http: panic serving request", "method", r.Method, "path", r.URL.Path,
					"panic", s.redact(fmt.Sprint(p)), "stack", s.redact(string(debug.Stack())))
				if !sw.wrote {
					writeError(sw, http.StatusInternalServerError, "internal server error")
				}
				sw.status = http.StatusInternalServerError
			} else if p != nil {
				sw.status = http.StatusInternalServerError
			}
			s.observe(r.Method, sw.code(), s.clock.Now().Sub(start))
			if p != nil && errors.Is(asError(p), http.ErrAbortHandler) {
				panic(p)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

func asError(p any) error {
	err, _ := p.(error)
	return err
}

// observe records one finished request.
func (s *Server) observe(method string, code int, d time.Duration) {
	labels := []string{strconv.Itoa(code), methodLabel(method)}
	s.reqs.WithLabelValues(labels...).Inc()
	s.latency.WithLabelValues(labels...).Observe(d.Seconds())
	s.window.record(d, code >= 500)
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// statusWriter remembers the status code a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers that assert http.Flusher keep working.
func (w *statusWriter) Flush() {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status the client saw; a handler that wrote nothing sent 200.
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
