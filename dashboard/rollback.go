package dashboard

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"
)

// rollbackRequest is the body of POST /api/runs/{id}/rollback.
type rollbackRequest struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// handleRollback asks a live run to roll back: 404 when no token is
// configured, 401 without the right bearer token, 404 for an unknown run,
// 400 without a reason, 415 for a body that is not JSON, 409 when the run
// is not live here or has ended, 202 when the request was handed to the
// run (which records who asked and why in its audit log).
func (h *Hub) handleRollback(w http.ResponseWriter, r *http.Request) {
	if h.opts.Token == "" {
		writeErr(w, http.StatusNotFound, "manual rollback is off: the dashboard was started without a token")
		return
	}
	if ok, why := h.authorized(r); !ok {
		h.logf("rollback refused for run %q from %s: %s", r.PathValue("id"), r.RemoteAddr, why)
		w.Header().Set("WWW-Authenticate", `Bearer realm="poolpilot"`)
		writeErr(w, http.StatusUnauthorized, "unauthorized: send Authorization: Bearer <the dashboard's token>")
		return
	}
	rn := h.find(w, r, true)
	if rn == nil {
		return
	}
	req, code, msg := readRollback(r)
	if code != 0 {
		writeErr(w, code, "%s", msg)
		return
	}
	v := h.viewOf(rn)
	if ok, why := h.canRollback(v); !ok {
		writeErr(w, http.StatusConflict, "%s", why)
		return
	}
	by := req.By + " (dashboard, admin token)"
	if err := h.opts.Rollback(rn.dir, by, req.Reason); err != nil {
		h.logf("rollback request for run %s not delivered: %v", rn.id, err)
		writeErr(w, http.StatusInternalServerError, "the rollback request could not be handed to the run: %v", err)
		return
	}
	h.logf("rollback requested for run %s by %s from %s: %s", rn.id, by, r.RemoteAddr, req.Reason)
	rn.mu.Lock()
	rn.rollbackAt = h.now()
	rn.touchLocked(secControl)
	rn.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "requested", "run": rn.id, "by": by, "reason": req.Reason,
		"message": "the run rolls back within a second; watch its state"})
}

// readRollback decodes and checks the body; code is 0 when it is good.
func readRollback(r *http.Request) (rollbackRequest, int, string) {
	var req rollbackRequest
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		return req, http.StatusUnsupportedMediaType, `send Content-Type: application/json with {"reason": "…", "by": "…"}`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, http.StatusBadRequest, `body: want {"reason": "…", "by": "…"}: ` + err.Error()
	}
	req.Reason, req.By = strings.TrimSpace(req.Reason), strings.TrimSpace(req.By)
	switch {
	case req.Reason == "":
		return req, http.StatusBadRequest, "reason is required: say why the run must roll back"
	case utf8.RuneCountInString(req.Reason) > maxReasonLen:
		return req, http.StatusBadRequest, "reason is longer than 1000 characters"
	case utf8.RuneCountInString(req.By) > maxByLen:
		return req, http.StatusBadRequest, "by is longer than 100 characters"
	case strings.ContainsAny(req.Reason+req.By, "\x00\r"):
		return req, http.StatusBadRequest, "reason and by must be plain text"
	}
	if req.By == "" {
		req.By = "operator"
	}
	return req, 0, ""
}
