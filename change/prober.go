package change

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
)

// HTTPProber reads /healthz over HTTP.
type HTTPProber struct {
	Client *http.Client // nil: 5s timeout
}

// Health GETs the instance's health URL. A 503 with a health document is
// returned with an error that says why the instance is unavailable.
func (hp HTTPProber) Health(ctx context.Context, inst plan.Instance) (poolpilot.Health, error) {
	var h poolpilot.Health
	client := hp.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, inst.HealthURL, nil)
	if err != nil {
		return h, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return h, err
	}
	if jerr := json.Unmarshal(body, &h); jerr != nil {
		return h, fmt.Errorf("GET %s: %s: not a health document: %v", inst.HealthURL, resp.Status, jerr)
	}
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("GET %s: %s: %s %s", inst.HealthURL, resp.Status, h.Status, h.Error)
	}
	return h, nil
}
