package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/plan"
)

func TestApplySendsAuthorisedResize(t *testing.T) {
	var got map[string]int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || r.URL.Path != "/admin/pool" {
			http.Error(w, "wrong route", http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
		w.Write([]byte(`{"max":200,"min":20}`))
	}))
	defer srv.Close()
	env := map[string]string{"TOK": "s3cret", "BAD": "nope"}
	d := &Driver{Getenv: func(k string) string { return env[k] }}
	inst := plan.Instance{Name: "a", HealthURL: srv.URL + "/healthz", AdminTokenEnv: "TOK"}
	var log bytes.Buffer
	if err := d.Apply(context.Background(), inst, plan.PoolSize{Max: 200, Min: 20}, &log); err != nil {
		t.Fatal(err)
	}
	if got["max"] != 200 || got["min"] != 20 {
		t.Errorf("body %v", got)
	}
	if strings.Contains(log.String(), "s3cret") {
		t.Error("token in the deployment log")
	}
	inst.AdminTokenEnv = "BAD"
	err := d.Apply(context.Background(), inst, plan.PoolSize{Max: 200, Min: 20}, &log)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "BAD") {
		t.Errorf("wrong token: %v", err)
	}
	inst.AdminTokenEnv = "UNSET"
	if err := d.Apply(context.Background(), inst, plan.PoolSize{Max: 200, Min: 20}, &log); err == nil || !strings.Contains(err.Error(), "UNSET") {
		t.Errorf("unset token: %v", err)
	}
}

func TestAdminEndpoint(t *testing.T) {
	for _, tc := range []struct {
		inst plan.Instance
		want string
	}{
		{plan.Instance{HealthURL: "http://127.0.0.1:8080/healthz"}, "http://127.0.0.1:8080/admin/pool"},
		{plan.Instance{HealthURL: "http://h/healthz", AdminURL: "http://127.0.0.1:9000/"}, "http://127.0.0.1:9000/admin/pool"},
	} {
		if got, err := AdminEndpoint(tc.inst); err != nil || got != tc.want {
			t.Errorf("%+v -> %q %v", tc.inst, got, err)
		}
	}
}
