package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSendPostsSlackJSON(t *testing.T) {
	got := make(chan Message, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m Message
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s", r.Method, r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Error(err)
		}
		got <- m
	}))
	defer srv.Close()
	w := &Webhook{URL: srv.URL + "/services/T000/B000/secretpart", Name: "POOLPILOT_WEBHOOK_URL"}
	if err := w.Send(context.Background(), "plan x succeeded"); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m.Text != "plan x succeeded" {
		t.Fatalf("text %q", m.Text)
	}
}

func TestSendErrorsNeverShowTheURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook "+r.URL.Path, http.StatusNotFound)
	}))
	secret := "/services/T000/B000/secretpart"
	w := &Webhook{URL: srv.URL + secret, Name: "HOOK"}
	err := w.Send(context.Background(), "x")
	if err == nil || strings.Contains(err.Error(), "secretpart") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("error %v", err)
	}
	srv.Close()
	err = w.Send(context.Background(), "x")
	if err == nil || strings.Contains(err.Error(), "secretpart") || strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("error %v", err)
	}
}
