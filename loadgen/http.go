package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/redact"
)

// HTTPRequest is the request an HTTP target sends.
type HTTPRequest struct {
	Method string // "" means GET
	URL    string
	Body   []byte
	Header http.Header
}

// HTTPTarget sends the same request for every call.
type HTTPTarget struct {
	client *http.Client
	req    HTTPRequest
	url    *url.URL
}

// NewHTTPClient returns a client for load: keep-alive connections up to
// maxConns per host, no compression, no redirects followed.
func NewHTTPClient(maxConns int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// ParseURL checks that s is an absolute http(s) URL.
func ParseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("URL %q: want an absolute http:// or https:// URL, e.g. http://127.0.0.1:8080/healthz", redact.URL(s))
	}
	return u, nil
}

// ParseHeader reads a "Key: Value" header.
func ParseHeader(s string) (string, string, error) {
	k, v, ok := strings.Cut(s, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(v, "\r\n") {
		return "", "", fmt.Errorf("header %q: want 'Key: Value'", s)
	}
	return k, strings.TrimSpace(v), nil
}

// NewHTTPTarget returns a target that sends req with client.
func NewHTTPTarget(req HTTPRequest, client *http.Client) (*HTTPTarget, error) {
	u, err := ParseURL(req.URL)
	if err != nil {
		return nil, err
	}
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	if _, err := http.NewRequest(req.Method, req.URL, nil); err != nil {
		return nil, fmt.Errorf("method %q: %v", req.Method, err)
	}
	return &HTTPTarget{client: client, req: req, url: u}, nil
}

// String names the target with any password redacted.
func (t *HTTPTarget) String() string { return t.req.Method + " " + redact.URL(t.url.String()) }

// Do sends the request; a status of 400 or above is an error.
func (t *HTTPTarget) Do(ctx context.Context) (Result, error) {
	var body io.Reader
	if t.req.Body != nil {
		body = bytes.NewReader(t.req.Body)
	}
	req, err := http.NewRequestWithContext(ctx, t.req.Method, t.req.URL, body)
	if err != nil {
		return Result{}, err
	}
	for k, vs := range t.req.Header {
		req.Header[k] = vs
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return Result{}, transportError(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return Result{}, &StatusError{Code: resp.StatusCode}
	}
	return Result{}, err
}

// Preflight sends one request and fails if the target cannot be reached
// (any HTTP status counts as reached).
func (t *HTTPTarget) Preflight(ctx context.Context) error {
	_, err := t.Do(ctx)
	var se *StatusError
	if err != nil && !errors.As(err, &se) {
		return fmt.Errorf("cannot reach %s: %w", redact.URL(t.url.String()), err)
	}
	return nil
}

// kindError gives a transport error a kind for the report.
type kindError struct {
	kind string
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }
func (e *kindError) Kind() string  { return e.kind }

func transportError(err error) error {
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &kindError{"timeout", err}
	case errors.As(err, &op) && op.Op == "dial":
		return &kindError{"connect", err}
	}
	return &kindError{"transport", err}
}
