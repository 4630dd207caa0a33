package loadgen

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTPTarget(t *testing.T) {
	t.Parallel()
	var n, bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || string(b) != `{"x":1}` || r.Header.Get("X-Test") != "yes" {
			bad.Add(1)
		}
		if n.Add(1)%10 == 0 {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	client := NewHTTPClient(10)
	defer client.CloseIdleConnections()
	tg, err := NewHTTPTarget(HTTPRequest{Method: "POST", URL: srv.URL, Body: []byte(`{"x":1}`), Header: http.Header{"X-Test": {"yes"}}}, client)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := Constant(200)
	rep, err := Run(context.Background(), Config{Schedule: s, Duration: time.Second}, tg)
	if err != nil {
		t.Fatal(err)
	}
	if bad.Load() != 0 {
		t.Errorf("%d requests arrived without the method, body or header", bad.Load())
	}
	if rep.Requests != 200 || rep.Errors != 20 || rep.ErrorKinds["http_500"] != 20 {
		t.Errorf("requests %d errors %d kinds %v; want 200, 20 http_500", rep.Requests, rep.Errors, rep.ErrorKinds)
	}
}

func TestHTTPPreflightUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	client := NewHTTPClient(1)
	tg, err := NewHTTPTarget(HTTPRequest{URL: "http://" + addr + "/"}, client)
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Preflight(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("preflight of a closed port: %v", err)
	}
}

func TestParseURLAndHeader(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x/", "http://", "http://user:secret@/x"} {
		if _, err := ParseURL(u); err == nil {
			t.Errorf("ParseURL(%q) accepted", u)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL error leaks the password: %v", err)
		}
	}
	if k, v, err := ParseHeader("Authorization: Bearer x:y"); err != nil || k != "Authorization" || v != "Bearer x:y" {
		t.Errorf("ParseHeader = %q %q %v", k, v, err)
	}
	for _, h := range []string{"NoColon", ": v", "Bad Key: v", "K: v\r\nX: y"} {
		if _, _, err := ParseHeader(h); err == nil {
			t.Errorf("ParseHeader(%q) accepted", h)
		}
	}
}
