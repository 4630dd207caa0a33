// Package admin applies a pool size through an instance's live admin API:
// PUT {admin_url}/admin/pool with {"max":N,"min":M} and a bearer token read
// from the environment variable the plan names.
package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/driver"
	"github.com/poolpilot/poolpilot/plan"
)

// Driver is the admin driver.
type Driver struct {
	Getenv func(string) string
	Client *http.Client // nil: a client with a 10s timeout
	// Retry is the policy for transient failures (refused, reset, timeout,
	// 5xx, 409); its Within is the plan's verify_timeout.
	Retry driver.Retry
}

// Name returns "admin".
func (d *Driver) Name() string { return plan.DriverAdmin }

// Apply resizes inst's pool live, retrying transient failures. It is
// idempotent: resizing to the current size is a no-op on the instance.
func (d *Driver) Apply(ctx context.Context, inst plan.Instance, size plan.PoolSize, log io.Writer) error {
	token := d.Getenv(inst.AdminTokenEnv)
	if token == "" {
		return fmt.Errorf("instance %s: environment variable %s (admin_token_env) is empty: export the admin token", inst.Name, inst.AdminTokenEnv)
	}
	endpoint, err := AdminEndpoint(inst)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]int{"max": size.Max, "min": size.Min})
	what := fmt.Sprintf("instance %s: PUT %s", inst.Name, endpoint)
	return d.Retry.Do(ctx, what, log, func(ctx context.Context) error {
		return d.put(ctx, inst, endpoint, token, body, log)
	})
}

// put sends one PUT. A non-200 answer is a *driver.StatusError.
func (d *Driver) put(ctx context.Context, inst plan.Instance, endpoint, token string, body []byte, log io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("instance %s: %w", inst.Name, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	client := d.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	start := time.Now()
	fmt.Fprintf(log, "%s PUT %s %s\n", start.UTC().Format(time.RFC3339Nano), endpoint, body)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(log, "  error: %v\n", err)
		return fmt.Errorf("instance %s: PUT %s: %w", inst.Name, endpoint, err)
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(log, "  %d in %s: %s\n", resp.StatusCode, time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(respBody)))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	hint := ""
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		hint = " (the token in " + inst.AdminTokenEnv + " was refused)"
	case http.StatusNotFound:
		hint = " (admin API disabled: start the instance with POOLPILOT_ADMIN_TOKEN set)"
	}
	return &driver.StatusError{Code: resp.StatusCode,
		Err: fmt.Errorf("instance %s: PUT %s: %s%s: %s", inst.Name, endpoint, resp.Status, hint, strings.TrimSpace(string(respBody)))}
}

// AdminEndpoint is {admin_url}/admin/pool, or the health URL's origin when
// the plan gives no admin URL.
func AdminEndpoint(inst plan.Instance) (string, error) {
	base := inst.AdminURL
	if base == "" {
		u, err := url.Parse(inst.HealthURL)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("instance %s: health_url %q is not a URL", inst.Name, inst.HealthURL)
		}
		base = u.Scheme + "://" + u.Host
	}
	return strings.TrimSuffix(base, "/") + "/admin/pool", nil
}
