package prom

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"os"
	"sort"
	"strings"

	"github.com/poolpilot/poolpilot/redact"
)

// Auth is what a query carries to a Prometheus that wants credentials:
// a bearer token or basic auth, and extra headers (a tenant header such as
// X-Scope-OrgID). Its values never appear in errors or messages.
type Auth struct {
	BearerToken        string
	Username, Password string
	Headers            map[string]string
}

// Secrets lists the values to redact wherever they could be written.
func (a Auth) Secrets() []string {
	var out []string
	for _, v := range []string{a.BearerToken, a.Password} {
		if v != "" {
			out = append(out, v)
		}
	}
	for _, v := range a.Headers {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (a Auth) validate() error {
	if a.BearerToken != "" && (a.Username != "" || a.Password != "") {
		return errors.New("prometheus: give a bearer token or basic auth, not both")
	}
	for name := range a.Headers {
		if !validHeaderName(name) {
			return fmt.Errorf("prometheus: header %q is not a valid HTTP header name", name)
		}
		if c := textproto.CanonicalMIMEHeaderKey(name); c == "Authorization" && (a.BearerToken != "" || a.Username != "") {
			return errors.New("prometheus: an Authorization header and a bearer token or basic auth: give one")
		}
	}
	for _, v := range a.Secrets() {
		if strings.ContainsAny(v, "\r\n") {
			return errors.New("prometheus: a credential or header value contains a line break")
		}
	}
	return nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 126 || r <= 32 || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}

func (a Auth) apply(req *http.Request) {
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	switch {
	case a.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+a.BearerToken)
	case a.Username != "" || a.Password != "":
		req.SetBasicAuth(a.Username, a.Password)
	}
}

// describe names the kind of credentials sent, never their values.
func (a Auth) describe() string {
	var parts []string
	switch {
	case a.BearerToken != "":
		parts = append(parts, "bearer token sent")
	case a.Username != "" || a.Password != "":
		parts = append(parts, "basic auth sent")
	default:
		parts = append(parts, "no credentials sent")
	}
	if len(a.Headers) > 0 {
		names := make([]string, 0, len(a.Headers))
		for k := range a.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		parts = append(parts, "headers "+strings.Join(names, ", "))
	}
	return strings.Join(parts, "; ")
}

// redactErr replaces any credential in err's text (a transport error may
// quote a header) with a placeholder.
func (a Auth) redactErr(err error) error {
	msg := err.Error()
	red := redact.Secrets(msg, a.Secrets()...)
	if red == msg {
		return err
	}
	return errors.New(red)
}

// newClient is a client that trusts caFile's certificates ("" the system's).
func newClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return &http.Client{}, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("prometheus CA file: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("prometheus CA file %s: no PEM certificate in it", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, nil
}
