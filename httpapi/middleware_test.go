package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMiddlewareCountsAndLatency(t *testing.T) {
	e := newTestEnv(t, nil)
	app := e.srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			e.clock.Advance(200 * time.Millisecond) // the request "takes" 200ms
		case "/503":
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case "/404":
			http.NotFound(w, r)
		case "/write":
			_, _ = w.Write([]byte("hi"))
		}
	}))
	for i := 0; i < 7; i++ {
		serve(app, "GET", "/slow", "")
	}
	serve(app, "POST", "/503", "")
	serve(app, "GET", "/404", "")
	serve(app, "GET", "/write", "")
	serve(app, "BREW", "/write", "")

	st := e.srv.RequestStats()
	if st.Total != 11 || st.Errors != 1 {
		t.Fatalf("total/errors = %d/%d, want 11/1 (404 is not an error)", st.Total, st.Errors)
	}
	if !near(st.LatencyP50MS, 200, 0.01) {
		t.Errorf("p50 = %v ms, want 200", st.LatencyP50MS)
	}
	for _, c := range []struct {
		code, method string
		want         float64
	}{{"200", "GET", 8}, {"503", "POST", 1}, {"404", "GET", 1}, {"200", "OTHER", 1}} {
		if got := counterValue(t, e.srv, "http_requests_total", "code", c.code, "method", c.method); got != c.want {
			t.Errorf("http_requests_total{code=%s,method=%s} = %v, want %v", c.code, c.method, got, c.want)
		}
	}
	if n := seriesCount(t, e.srv, "http_request_duration_seconds"); n != 4 {
		t.Errorf("latency histogram series = %d, want 4", n)
	}
}

func TestMiddlewareRecoversPanic(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.Secrets = []string{"pw-in-panic"} })
	app := e.srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("boom: password pw-in-panic")
	}))
	w := serve(app, "GET", "/x", "")
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
	if st := e.srv.RequestStats(); st.Total != 1 || st.Errors != 1 {
		t.Errorf("stats = %+v, want 1 request, 1 error", st)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "panic serving request") || !strings.Contains(logs, "boom") {
		t.Errorf("panic not logged:\n%s", logs)
	}
	if strings.Contains(logs, "pw-in-panic") || strings.Contains(w.Body.String(), "boom") {
		t.Errorf("panic text leaked a secret or reached the client:\nlogs %s\nbody %s", logs, w.Body)
	}
}

func TestMiddlewarePanicAfterHeaderCountsAsError(t *testing.T) {
	e := newTestEnv(t, nil)
	app := e.srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		panic("late")
	}))
	serve(app, "GET", "/x", "")
	if st := e.srv.RequestStats(); st.Errors != 1 {
		t.Errorf("errors = %d, want 1", st.Errors)
	}
}

func TestMiddlewareAbortHandlerRepanics(t *testing.T) {
	e := newTestEnv(t, nil)
	app := e.srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler re-panicked", p)
		}
		if st := e.srv.RequestStats(); st.Errors != 1 {
			t.Errorf("errors = %d, want 1", st.Errors)
		}
	}()
	serve(app, "GET", "/x", "")
}

func TestMiddlewareSkipsOwnRoutes(t *testing.T) {
	for _, count := range []bool{false, true} {
		e := newTestEnv(t, func(o *Options) { o.CountOwnRoutes = count })
		mux := http.NewServeMux()
		e.srv.Mount(mux)
		mux.HandleFunc("/v1/x", func(http.ResponseWriter, *http.Request) {})
		h := e.srv.Middleware(mux)
		serve(h, "GET", "/healthz", "")
		serve(h, "GET", "/metrics", "")
		serve(h, "GET", "/v1/x", "")
		want := int64(1)
		if count {
			want = 3
		}
		if st := e.srv.RequestStats(); st.Total != want {
			t.Errorf("CountOwnRoutes=%v: total %d, want %d", count, st.Total, want)
		}
	}
}

func TestMiddlewareKeepsFlusher(t *testing.T) {
	e := newTestEnv(t, nil)
	flushed := false
	app := e.srv.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			t.Error("wrapped writer is not an http.Flusher")
			return
		}
		f.Flush()
		flushed = true
	}))
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if !flushed || !w.Flushed {
		t.Errorf("flush did not reach the underlying writer")
	}
}

func TestMountOnServiceMuxWithCatchAll(t *testing.T) {
	e := newTestEnv(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	e.srv.Mount(mux)
	if w := serve(mux, "POST", "/healthz", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz on a mux with a catch-all: %d, want 405", w.Code)
	}
	if w := serve(mux, "GET", "/healthz", ""); w.Code != 200 {
		t.Errorf("GET /healthz: %d", w.Code)
	}
	if w := serve(mux, "GET", "/other", ""); w.Code != http.StatusTeapot {
		t.Errorf("the service's own routes were shadowed: %d", w.Code)
	}
	if w := serve(e.srv.Handler(), "GET", "/nope", ""); w.Code != 404 {
		t.Errorf("unknown path on Handler(): %d, want 404", w.Code)
	}
}
