package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/httpapi/bearer"
	"github.com/poolpilot/poolpilot/report"
)

// Handler serves the dashboard.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.handleList)
	mux.HandleFunc("GET /runs/{id}", h.handleRun)
	mux.HandleFunc("GET /runs/{id}/report", h.handleReport)
	mux.HandleFunc("GET /runs/{id}/files/{name}", h.handleFile)
	mux.HandleFunc("GET /api/runs", h.handleAPIList)
	mux.HandleFunc("GET /api/runs/{id}", h.handleAPIRun)
	mux.HandleFunc("GET /api/runs/{id}/events", h.handleEvents)
	mux.HandleFunc("POST /api/runs/{id}/rollback", h.handleRollback)
	mux.HandleFunc("GET /assets/{name}", h.handleAsset)
	mux.HandleFunc("GET /metrics", h.handleMetrics)
	return h.secure(mux)
}

// csp allows nothing but this origin: no CDN, no inline script or style.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secure sets the security headers and redacts every buffered response.
func (h *Hub) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		if strings.HasSuffix(r.URL.Path, "/events") {
			next.ServeHTTP(w, r) // the SSE handler redacts each message
			return
		}
		rw := &bufWriter{h: hd, code: http.StatusOK}
		next.ServeHTTP(rw, r)
		out := []byte(h.red.Redact(rw.buf.String()))
		hd.Del("Content-Length")
		w.WriteHeader(rw.code)
		_, _ = w.Write(out)
	})
}

// bufWriter holds a response until it is redacted.
type bufWriter struct {
	h    http.Header
	code int
	buf  bytes.Buffer
}

func (b *bufWriter) Header() http.Header         { return b.h }
func (b *bufWriter) WriteHeader(code int)        { b.code = code }
func (b *bufWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeErr(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (h *Hub) writeHTML(w http.ResponseWriter, name string, pd *pageData) {
	s, err := render(name, pd)
	if err != nil {
		h.logf("%v", err)
		http.Error(w, "internal error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, s)
}

// find answers 404 for an unknown run id.
func (h *Hub) find(w http.ResponseWriter, r *http.Request, api bool) *run {
	id := r.PathValue("id")
	rn, err := h.lookup(id)
	if err == nil {
		return rn
	}
	if errors.Is(err, errNotFound) {
		if api {
			writeErr(w, http.StatusNotFound, "no run %q: see GET /api/runs", id)
		} else {
			http.Error(w, fmt.Sprintf("no run %q: see the list of runs at /", id), http.StatusNotFound)
		}
		return nil
	}
	h.logf("run %s: %v", id, err)
	http.Error(w, "the run's folder could not be read", http.StatusInternalServerError)
	return nil
}

// viewOf is a run's view with what only the Hub knows: whether the
// rollback form can act.
func (h *Hub) viewOf(rn *run) *View {
	rn.mu.Lock()
	v := rn.viewLocked(h.now())
	rn.mu.Unlock()
	v.Rollback.Enabled, v.Rollback.Why = h.canRollback(v)
	return v
}

func (h *Hub) canRollback(v *View) (bool, string) {
	switch {
	case h.opts.Token == "":
		return false, "Manual rollback is off: this dashboard was started without a token (--dashboard-token-env VAR or --token-env VAR)."
	case v.Terminal:
		return false, "The run has ended (" + v.State + "): there is nothing to roll back."
	case !v.Live && (h.opts.Foreign == nil || !h.opts.Foreign(v.dir)):
		return false, "No live process runs this folder: roll it back with poolpilot rollback DIR --reason TEXT."
	case h.opts.Rollback == nil:
		return false, "This dashboard cannot reach the run to roll it back."
	}
	return true, ""
}

func (h *Hub) handleList(w http.ResponseWriter, r *http.Request) {
	h.writeHTML(w, "list", &pageData{Runs: h.runs()})
}

func (h *Hub) handleAPIList(w http.ResponseWriter, r *http.Request) {
	type item struct {
		ID       string      `json:"id"`
		Plan     string      `json:"plan"`
		State    string      `json:"state"`
		Live     bool        `json:"live"`
		Terminal bool        `json:"terminal"`
		Started  time.Time   `json:"started"`
		Verify   *VerifyView `json:"verify,omitempty"`
	}
	out := []item{}
	for _, v := range h.runs() {
		out = append(out, item{v.ID, v.Plan, v.State, v.Live, v.Terminal, v.Started, v.Verify})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Hub) handleRun(w http.ResponseWriter, r *http.Request) {
	if rn := h.find(w, r, false); rn != nil {
		h.writeHTML(w, "run", newPage(h.viewOf(rn), h.opts.Token != ""))
	}
}

func (h *Hub) handleAPIRun(w http.ResponseWriter, r *http.Request) {
	if rn := h.find(w, r, true); rn != nil {
		writeJSON(w, http.StatusOK, h.viewOf(rn))
	}
}

// handleReport renders the report from the run's folder now.
func (h *Hub) handleReport(w http.ResponseWriter, r *http.Request) {
	rn := h.find(w, r, false)
	if rn == nil {
		return
	}
	m, err := report.Load(rn.dir)
	var b []byte
	if err == nil {
		b, err = report.HTML(m)
	}
	if err != nil {
		h.logf("report %s: %v", rn.id, err)
		http.Error(w, "the report could not be rendered from the evidence folder", http.StatusInternalServerError)
		return
	}
	// The report is self-contained with an inline style sheet.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b)
}

// fileNameRe is an evidence file's name: no separator, no leading dot.
var fileNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$`)

// handleFile serves one regular file directly inside the run folder.
func (h *Hub) handleFile(w http.ResponseWriter, r *http.Request) {
	rn := h.find(w, r, false)
	if rn == nil {
		return
	}
	name := r.PathValue("name")
	if !fileNameRe.MatchString(name) || strings.Contains(name, "..") {
		http.Error(w, "bad file name: use a file name listed on the run's page", http.StatusBadRequest)
		return
	}
	p := filepath.Join(rn.dir, name)
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() {
		http.Error(w, fmt.Sprintf("no evidence file %q in run %s", name, rn.id), http.StatusNotFound)
		return
	}
	b, err := os.ReadFile(p)
	if err != nil {
		http.Error(w, fmt.Sprintf("no evidence file %q in run %s", name, rn.id), http.StatusNotFound)
		return
	}
	ct := "text/plain; charset=utf-8"
	switch path.Ext(name) {
	case ".json":
		ct = "application/json; charset=utf-8"
	case ".html":
		ct = "text/html; charset=utf-8"
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name}))
	_, _ = w.Write(b)
}

func (h *Hub) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !fileNameRe.MatchString(name) || strings.HasSuffix(name, ".html") {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(assets, "assets/"+name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == ".js" {
		ct = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// authorized checks "Authorization: Bearer <token>" in constant time
// (both sides hashed, so neither content nor length leaks).
func (h *Hub) authorized(r *http.Request) (bool, string) { return h.bearerOK(r, h.opts.Token) }

// bearerOK checks r's bearer token against want in constant time.
func (h *Hub) bearerOK(r *http.Request, want string) (bool, string) { return bearer.Check(r, want) }
