package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// MaxBodyBytes caps the body of POST /v1/tenants/{tenant}/entries.
const MaxBodyBytes = 1 << 20

// NewHandler returns the /v1 HTTP API over store:
//
//	POST /v1/tenants/{tenant}/entries                  201 entry | 400 | 422
//	GET  /v1/tenants/{tenant}/accounts/{account}/balance 200 | 400 | 404
//	GET  /v1/tenants/{tenant}/trial-balance            200 | 400
//	GET  /v1/integrity                                 200 ok | 500 report
//
// Every error is JSON {"error":"…"}; unknown /v1 paths get 404 and known
// paths with another method 405, also as JSON. logger (nil: discard) gets
// one line per 5xx.
func NewHandler(store *Store, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{store: store, log: logger}
	mux := http.NewServeMux()
	route := func(method, path string, fn http.HandlerFunc) {
		mux.HandleFunc(method+" "+path, fn)
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", method)
			WriteError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s: use %s", r.Method, r.URL.Path, method))
		})
	}
	route("POST", "/v1/tenants/{tenant}/entries", h.postEntry)
	route("GET", "/v1/tenants/{tenant}/accounts/{account}/balance", h.balance)
	route("GET", "/v1/tenants/{tenant}/trial-balance", h.trialBalance)
	route("GET", "/v1/integrity", h.integrity)
	mux.HandleFunc("/", NotFound)
	return mux
}

type handler struct {
	store *Store
	log   *slog.Logger
}

// entryRequest is the body of a POST: only these fields are accepted.
type entryRequest struct {
	Description string `json:"description"`
	Lines       []Line `json:"lines"`
}

func (h *handler) postEntry(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if err := checkID("tenant", tenant); err != nil {
		h.fail(w, r, err)
		return
	}
	body, status, err := readBody(w, r)
	if err != nil {
		WriteError(w, status, err.Error())
		return
	}
	e, err := DecodeEntry(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if e, err = h.store.PostEntry(r.Context(), tenant, e); err != nil {
		h.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, e)
}

// DecodeEntry parses the body of POST /v1/tenants/{tenant}/entries: exactly
// one JSON object with only "description" and "lines" (each line only
// "account" and an integer "amount"). A malformed body is a
// *ValidationError (400); the accounting rules are Validate's.
func DecodeEntry(body []byte) (Entry, error) {
	var req entryRequest
	if err := decodeStrict(body, &req); err != nil {
		return Entry{}, &ValidationError{Msg: err.Error()}
	}
	return Entry{Description: req.Description, Lines: req.Lines}, nil
}

func (h *handler) balance(w http.ResponseWriter, r *http.Request) {
	b, err := h.store.Balance(r.Context(), r.PathValue("tenant"), r.PathValue("account"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, b)
}

func (h *handler) trialBalance(w http.ResponseWriter, r *http.Request) {
	tb, err := h.store.TrialBalance(r.Context(), r.PathValue("tenant"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, tb)
}

func (h *handler) integrity(w http.ResponseWriter, r *http.Request) {
	rep, err := h.store.CheckIntegrity(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if !rep.OK {
		status = http.StatusInternalServerError
		h.log.Error("integrity check failed", "unbalanced_entries", len(rep.UnbalancedEntries),
			"tenant_imbalances", len(rep.TenantImbalances), "cross_tenant_lines", len(rep.CrossTenantLines))
	}
	WriteJSON(w, status, rep)
}

// fail maps err to a status: ValidationError 400/422, ErrNotFound 404,
// anything else 500 (logged; the client gets a generic message).
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ve *ValidationError
	switch {
	case errors.As(err, &ve) && ve.Unprocessable:
		WriteError(w, http.StatusUnprocessableEntity, ve.Msg)
	case errors.As(err, &ve):
		WriteError(w, http.StatusBadRequest, ve.Msg)
	case errors.Is(err, ErrNotFound):
		WriteError(w, http.StatusNotFound, fmt.Sprintf("account %q not found for tenant %q", r.PathValue("account"), r.PathValue("tenant")))
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		WriteError(w, http.StatusServiceUnavailable, "request cancelled")
	default:
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		WriteError(w, http.StatusInternalServerError, "internal error: the database request failed (see the ledgerd log)")
	}
}

// readBody reads the request body, refusing more than MaxBodyBytes (413).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body over %d bytes", MaxBodyBytes)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read request body: %w", err)
	}
	return body, 0, nil
}

// decodeJSON reads exactly one JSON object into v, refusing unknown fields,
// trailing data and bodies over MaxBodyBytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) (int, error) {
	body, status, err := readBody(w, r)
	if err != nil {
		return status, err
	}
	if err := decodeStrict(body, v); err != nil {
		return http.StatusBadRequest, err
	}
	return 0, nil
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// fields and trailing data.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed JSON body: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("malformed JSON body: data after the JSON object")
	}
	return nil
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error: encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n')) //nolint:errcheck // the client may be gone
}

// WriteError writes {"error": msg} with status.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// NotFound answers 404 in JSON.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
}
