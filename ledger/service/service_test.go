package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/ledgerdtest"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/ledger"
	"github.com/poolpilot/poolpilot/ledger/service"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	_, err := service.LoadConfig(envOf(map[string]string{
		"DATABASE_URL": "postgres://u:hunter2@127.0.0.1:1/db", "DB_POOL_MAX": "abc",
		"LEDGERD_ADDR": "nope", "LEDGERD_LOG_LEVEL": "loud", "LEDGERD_SHUTDOWN_TIMEOUT": "-5s",
	}))
	var ce *service.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 4 {
		t.Fatalf("err %v, want 4 problems", err)
	}
	for _, name := range []string{"DB_POOL_MAX", "LEDGERD_ADDR", "LEDGERD_LOG_LEVEL", "LEDGERD_SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestLoadConfigDefaultsAndWarning(t *testing.T) {
	cfg, err := service.LoadConfig(envOf(map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/db"}))
	if err != nil || cfg.Addr != "127.0.0.1:8080" || cfg.AddrWarning != "" || cfg.Pool.Max != 200 || cfg.Pool.Min != 20 ||
		cfg.AdminToken != "" || cfg.ShutdownTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = service.LoadConfig(envOf(map[string]string{"DATABASE_URL": "postgres://u@127.0.0.1:1/db", "LEDGERD_ADDR": "0.0.0.0:8080"}))
	if err != nil || !strings.Contains(cfg.AddrWarning, "WARNING") {
		t.Fatalf("non-loopback: warning %q, %v", cfg.AddrWarning, err)
	}
}

func get(t *testing.T, url, token string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, resp.Header, m
}

func TestServiceHealthzAndFaultScope(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{AdminToken: "test-token-1", Env: map[string]string{"DB_POOL_MAX": "7", "DB_POOL_MIN": "2"}})
	status, _, h := get(t, ld.URL+"/healthz", "")
	pool, _ := h["pool"].(map[string]any)
	if status != 200 || h["status"] != "ok" || h["service"] != "ledgerd" || pool["max"].(float64) != 7 || pool["min"].(float64) != 2 {
		t.Fatalf("healthz: %d %v", status, h)
	}
	if status, _, _ := get(t, ld.URL+"/admin/faults", ""); status != 401 {
		t.Fatalf("faults without token: %d, want 401", status)
	}
	if status, _, _ := get(t, ld.URL+"/admin/faults", "wrong-token"); status != 401 {
		t.Fatalf("faults with wrong token: %d, want 401", status)
	}
	ld.SetFaults(t, ledger.FaultSettings{ErrorRate: 1})
	status, hdr, m := get(t, ld.URL+"/v1/tenants/t1/trial-balance", "")
	if status != 500 || hdr.Get("X-Ledgerd-Fault") != "injected" || m["fault"] != true {
		t.Fatalf("/v1 under error_rate 1: %d %v", status, m)
	}
	// Faults never apply to /healthz or /metrics.
	for _, p := range []string{"/healthz", "/metrics"} {
		if status, hdr, _ := get(t, ld.URL+p, ""); status != 200 || hdr.Get("X-Ledgerd-Fault") != "" {
			t.Fatalf("%s under faults: %d", p, status)
		}
	}
	status, _, h = get(t, ld.URL+"/healthz", "")
	if status != 200 {
		t.Fatalf("/healthz under faults: %d", status)
	}
	reqs, _ := h["requests"].(map[string]any)
	if reqs == nil || reqs["errors"].(float64) < 1 {
		t.Fatalf("injected 500 not counted in /healthz requests: %v", h["requests"])
	}
	status, _, f := get(t, ld.URL+"/admin/faults", "test-token-1")
	if status != 200 || f["error_rate"].(float64) != 1 || f["injected_errors"].(float64) != 1 {
		t.Fatalf("GET /admin/faults: %d %v", status, f)
	}
	ld.SetFaults(t, ledger.FaultSettings{})
	if status, _, _ := get(t, ld.URL+"/v1/tenants/t1/trial-balance", ""); status != 200 {
		t.Fatalf("after clearing faults: %d", status)
	}
	if status, _, m := get(t, ld.URL+"/nope", ""); status != 404 || m["error"] == nil {
		t.Fatalf("unknown path: %d %v", status, m)
	}
}

func TestServiceAdminDisabledWithoutToken(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{})
	for _, p := range []string{"/admin/faults", "/admin/pool"} {
		if status, _, _ := get(t, ld.URL+p, "anything"); status != 404 {
			t.Errorf("%s without POOLPILOT_ADMIN_TOKEN: %d, want 404", p, status)
		}
	}
}

func TestServiceStartFailsOnUnreachableDatabase(t *testing.T) {
	cfg, err := service.LoadConfig(envOf(map[string]string{
		"DATABASE_URL": "postgres://u:s3cr3t-pw@127.0.0.1:1/db?connect_timeout=2", "DB_POOL_MIN": "0", "LEDGERD_ADDR": "127.0.0.1:0"}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := service.Start(ctx, cfg, service.Options{})
	if err == nil {
		srv.Shutdown(ctx)
		t.Fatal("started against a closed port")
	}
	if strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestShutdownIsIdempotent(t *testing.T) {
	ld := ledgerdtest.Start(t, ledgerdtest.Options{})
	if err := ld.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := ld.Server.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ld.Server.Done():
	default:
		t.Fatal("Done not closed after Shutdown")
	}
	if _, err := http.Get(ld.URL + "/healthz"); err == nil {
		t.Fatal("still serving after Shutdown")
	}
}
