package advisor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/source/health"
)

// Defaults of ServicePool.
const (
	DefaultSettle  = 30 * time.Second      // wait for /healthz to show a new size
	DefaultRestore = 30 * time.Second      // bound of Restore
	settlePoll     = 50 * time.Millisecond // /healthz polling while settling
	statsTimeout   = 10 * time.Second      // bound of the /healthz read of Stats
	adminTimeout   = 35 * time.Second      // bound of one PUT (the service's own resize takes up to 30 s)
)

// ServicePool is a running service's own pool, reached only through the
// language-neutral pool contract (docs/contract.md): PUT {AdminURL}/admin/pool
// with {"max":N,"min":M} and a bearer token resizes it, and the "pool"
// object of the health document at HealthURL shows its size and its
// acquire-wait p95. It satisfies Pool, so Sweep can sweep the service's pool
// size (poolpilot size --http); nothing in it is specific to Go services.
type ServicePool struct {
	AdminURL  string // the admin endpoint's base URL; "/admin/pool" is appended
	HealthURL string // the health document's URL
	Token     string // bearer token of the admin endpoint
	Client    *http.Client
	Settle    time.Duration // 0: DefaultSettle
}

func (p *ServicePool) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	return &http.Client{Timeout: adminTimeout}
}

// Health reads and checks the health document (any status: a 503 with a
// document is still one).
func (p *ServicePool) Health(ctx context.Context) (poolpilot.Health, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.HealthURL, nil)
	if err != nil {
		return poolpilot.Health{}, fmt.Errorf("GET %s: %w", p.HealthURL, err)
	}
	resp, err := p.client().Do(req)
	if err != nil {
		return poolpilot.Health{}, fmt.Errorf("GET %s: %w", p.HealthURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, health.MaxBody))
	if err != nil {
		return poolpilot.Health{}, fmt.Errorf("GET %s: %w", p.HealthURL, err)
	}
	h, err := health.ParseHealth(b)
	if err != nil {
		return h, fmt.Errorf("GET %s (%s): %w", p.HealthURL, resp.Status, err)
	}
	return h, nil
}

// Resize asks the service for max and min and waits until its health
// document shows them (at most Settle).
func (p *ServicePool) Resize(ctx context.Context, max, min int) error {
	endpoint := strings.TrimSuffix(p.AdminURL, "/") + "/admin/pool"
	body := fmt.Sprintf(`{"max":%d,"min":%d}`, max, min)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, endpoint, bytes.NewReader([]byte(body)))
	if err != nil {
		return fmt.Errorf("PUT %s: %w", endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client().Do(req)
	if err != nil {
		return fmt.Errorf("PUT %s %s: %w", endpoint, body, err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s %s: %s%s: %s", endpoint, body, resp.Status, adminHint(resp.StatusCode), strings.TrimSpace(string(answer)))
	}
	var got struct{ Max, Min int }
	if err := json.Unmarshal(answer, &got); err != nil || got.Max != max {
		return fmt.Errorf("PUT %s %s: the answer %q does not show max %d", endpoint, body, strings.TrimSpace(string(answer)), max)
	}
	return p.settle(ctx, max, min)
}

func adminHint(code int) string {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return " (the admin token was refused)"
	case http.StatusNotFound:
		return " (no admin endpoint: is the service's admin token set?)"
	}
	return ""
}

// settle polls the health document until it shows max and min.
func (p *ServicePool) settle(ctx context.Context, max, min int) error {
	d := p.Settle
	if d <= 0 {
		d = DefaultSettle
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(settlePoll)
	defer t.Stop()
	var last string
	for {
		h, err := p.Health(ctx)
		switch {
		case err == nil && h.Pool.Max == max && h.Pool.Min == min:
			return nil
		case err == nil:
			last = fmt.Sprintf("shows max %d, min %d", h.Pool.Max, h.Pool.Min)
		default:
			last = "cannot be read: " + err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s still %s %v after the resize to max %d, min %d", p.HealthURL, last, d, max, min)
		case <-t.C:
		}
	}
}

// Stats reads the pool object of the health document; on a failure it
// returns zero figures (Max 0: not read).
func (p *ServicePool) Stats() poolpilot.PoolStats {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	h, err := p.Health(ctx)
	if err != nil {
		return poolpilot.PoolStats{}
	}
	return h.Pool
}

// Restore resizes the pool back to max and min whatever the state of the
// caller's context (a Ctrl-C must not leave the service at a sweep's
// size), bounded by its own timeout.
func (p *ServicePool) Restore(ctx context.Context, max, min int) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultRestore)
	defer cancel()
	if err := p.Resize(ctx, max, min); err != nil {
		return fmt.Errorf("restore the pool to max %d, min %d: %w", max, min, err)
	}
	return nil
}
