package prom

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const okAnswer = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"a"},"value":[1,"7"]}]}}`

// authServer answers a query only when the request carries want (header →
// value); it records the headers it saw.
type authServer struct {
	want map[string]string
	mu   sync.Mutex
	seen http.Header
}

func (a *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.seen = r.Header.Clone()
	a.mu.Unlock()
	for k, v := range a.want {
		if r.Header.Get(k) != v {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(okAnswer))
}

func TestAuthOptions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cases := []struct {
		name string
		auth Auth
		want map[string]string
	}{
		{"bearer", Auth{BearerToken: "tok-s3cret"}, map[string]string{"Authorization": "Bearer tok-s3cret"}},
		{"basic", Auth{Username: "amy", Password: "pw-s3cret"}, map[string]string{"Authorization": "Basic YW15OnB3LXMzY3JldA=="}},
		{"headers", Auth{BearerToken: "tok-s3cret", Headers: map[string]string{"X-Scope-OrgID": "tenant-s3cret"}},
			map[string]string{"X-Scope-OrgID": "tenant-s3cret", "Authorization": "Bearer tok-s3cret"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			as := &authServer{want: c.want}
			srv := httptest.NewServer(as)
			defer srv.Close()
			src, err := New(srv.URL, []string{"up"}, Options{Auth: c.auth})
			if err != nil {
				t.Fatal(err)
			}
			vals, err := src.Query(ctx, "up")
			if err != nil || len(vals) != 1 || vals[0].Value != 7 {
				t.Fatalf("with credentials: %v %v (headers seen %v)", vals, err, as.seen)
			}
			// Without them the server refuses, and the error names what was
			// sent without showing a secret.
			bare, err := New(srv.URL, []string{"up"}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = bare.Query(ctx, "up")
			if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "no credentials sent") {
				t.Fatalf("without credentials: %v", err)
			}
			wrong := c.auth
			wrong.BearerToken, wrong.Password = strings.ToUpper(wrong.BearerToken), strings.ToUpper(wrong.Password)
			bad, _ := New(srv.URL, []string{"up"}, Options{Auth: wrong})
			ss, _ := bad.Collect(ctx)
			if len(ss) != 1 || !ss[0].Gap || !strings.Contains(ss[0].Reason, "refused the credentials") {
				t.Fatalf("wrong credentials: %+v", ss)
			}
			for _, v := range append(c.auth.Secrets(), wrong.Secrets()...) {
				if strings.Contains(ss[0].Reason, v) {
					t.Fatalf("reason %q shows a secret", ss[0].Reason)
				}
			}
		})
	}
}

func TestCAFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := httptest.NewTLSServer(&authServer{})
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := New(srv.URL, []string{"up"}, Options{CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if vals, err := src.Query(ctx, "up"); err != nil || len(vals) != 1 {
		t.Fatalf("with the CA file: %v %v", vals, err)
	}
	// Without it the server's certificate is not trusted.
	plain, _ := New(srv.URL, []string{"up"}, Options{})
	if _, err := plain.Query(ctx, "up"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA file: %v, want a certificate error", err)
	}
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)
	for file, want := range map[string]string{junk: "no PEM certificate", filepath.Join(dir, "missing.pem"): "no such file"} {
		if _, err := New(srv.URL, []string{"up"}, Options{CAFile: file}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CA file %s: %v, want %q", file, err, want)
		}
	}
}

func TestAuthValidate(t *testing.T) {
	for _, c := range []struct {
		auth Auth
		want string
	}{
		{Auth{BearerToken: "a", Username: "u"}, "not both"},
		{Auth{Headers: map[string]string{"Bad Header": "v"}}, "not a valid HTTP header name"},
		{Auth{BearerToken: "a", Headers: map[string]string{"authorization": "v"}}, "give one"},
		{Auth{BearerToken: "a\nb"}, "line break"},
	} {
		if _, err := New("http://127.0.0.1:9090", []string{"up"}, Options{Auth: c.auth}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.auth, err, c.want)
		}
	}
}
