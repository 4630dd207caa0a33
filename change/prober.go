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
	"github.com/poolpilot/poolpilot/source/health"
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

// DocumentProber is a Prober that also returns the health document with
// the names of the fields it carries, so that preflight can tell a field
// the service does not send from one that is 0.
type DocumentProber interface {
	Prober
	// Document returns the parsed document; with a non-nil error the
	// document is still returned when the body parsed (a 503 "unavailable").
	Document(ctx context.Context, inst plan.Instance) (health.Document, error)
}

// Document GETs the instance's health URL and parses it strictly
// (health.ParseDocument: schema version, status, pool object).
func (hp HTTPProber) Document(ctx context.Context, inst plan.Instance) (health.Document, error) {
	client := hp.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, inst.HealthURL, nil)
	if err != nil {
		return health.Document{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return health.Document{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, health.MaxBody))
	if err != nil {
		return health.Document{}, err
	}
	d, perr := health.ParseDocument(body)
	if perr != nil {
		return health.Document{}, fmt.Errorf("GET %s: %s: %w", inst.HealthURL, resp.Status, perr)
	}
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("GET %s: %s: %s %s", inst.HealthURL, resp.Status, d.Status, d.Health.Error)
	}
	return d, nil
}
