package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/driver"
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

// flaky serves PUT /admin/pool: the first answers come from fail (a status,
// or 0 to close the connection without an answer), then 200.
func flaky(t *testing.T, fail ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(fail) {
			if fail[i] == 0 {
				c, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					c.Close()
				}
				return
			}
			http.Error(w, `{"error":"busy"}`, fail[i])
			return
		}
		w.Write([]byte(`{"max":10,"min":2}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// fastRetry retries without sleeping, on a clock that the sleeps advance.
func fastRetry(within time.Duration) (driver.Retry, *[]time.Duration) {
	now := time.Date(2026, 2, 1, 2, 0, 0, 0, time.UTC)
	var waits []time.Duration
	return driver.Retry{Within: within, Now: func() time.Time { return now },
		Sleep:  func(_ context.Context, d time.Duration) error { waits = append(waits, d); now = now.Add(d); return nil },
		Jitter: func(d time.Duration) time.Duration { return d }}, &waits
}

func TestApplyRetriesTransientFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail []int
	}{
		{"503 twice", []int{503, 503}},
		{"connection closed, then 502", []int{0, 502}},
		{"409 conflict", []int{409}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := flaky(t, tc.fail...)
			r, waits := fastRetry(time.Minute)
			d := &Driver{Getenv: func(string) string { return "tok" }, Retry: r}
			inst := plan.Instance{Name: "a", HealthURL: srv.URL + "/healthz", AdminTokenEnv: "T"}
			var log bytes.Buffer
			if err := d.Apply(context.Background(), inst, plan.PoolSize{Max: 10, Min: 2}, &log); err != nil {
				t.Fatalf("apply: %v\n%s", err, log.String())
			}
			if got := int(n.Load()); got != len(tc.fail)+1 {
				t.Errorf("%d PUTs, want %d", got, len(tc.fail)+1)
			}
			if len(*waits) != len(tc.fail) || (len(*waits) > 1 && (*waits)[1] != 2*(*waits)[0]) {
				t.Errorf("backoff waits %v", *waits)
			}
			if c := strings.Count(log.String(), "failed (transient): instance a: PUT"); c != len(tc.fail) {
				t.Errorf("%d retries in the log, want %d:\n%s", c, len(tc.fail), log.String())
			}
		})
	}
}

func TestApplyDoesNotRetryRefusals(t *testing.T) {
	for _, code := range []int{400, 401, 403, 422} {
		srv, n := flaky(t, code, code, code)
		r, _ := fastRetry(time.Minute)
		d := &Driver{Getenv: func(string) string { return "tok" }, Retry: r}
		inst := plan.Instance{Name: "a", HealthURL: srv.URL + "/healthz", AdminTokenEnv: "T"}
		err := d.Apply(context.Background(), inst, plan.PoolSize{Max: 10, Min: 2}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprint(code)) {
			t.Errorf("%d: %v", code, err)
		}
		if n.Load() != 1 {
			t.Errorf("%d: %d PUTs, want 1 (not retried)", code, n.Load())
		}
	}
}

func TestApplyGivesUpWithinItsTime(t *testing.T) {
	srv, n := flaky(t, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503)
	r, waits := fastRetry(2 * time.Second)
	d := &Driver{Getenv: func(string) string { return "tok" }, Retry: r}
	inst := plan.Instance{Name: "a", HealthURL: srv.URL + "/healthz", AdminTokenEnv: "T"}
	var log bytes.Buffer
	err := d.Apply(context.Background(), inst, plan.PoolSize{Max: 10, Min: 2}, &log)
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "within 2s") {
		t.Fatalf("err %v", err)
	}
	var total time.Duration
	for _, w := range *waits {
		total += w
	}
	if total > 2*time.Second || n.Load() < 3 {
		t.Errorf("waited %s over %d PUTs (%v)", total, n.Load(), *waits)
	}
	if !strings.Contains(log.String(), "giving up") {
		t.Errorf("log:\n%s", log.String())
	}
}
