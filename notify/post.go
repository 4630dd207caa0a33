package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/redact"
)

// DefaultTimeout bounds one POST when no Client is given.
const DefaultTimeout = 10 * time.Second

// postJSON posts v as JSON to target and wants a 2xx answer. name says
// where the target came from (an env var) for errors; no error holds
// target or any of secrets.
func postJSON(ctx context.Context, client *http.Client, target, name string, v any, secrets ...string) error {
	if name == "" {
		name = "webhook"
	}
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: not a valid URL", name)
	}
	req.Header.Set("Content-Type", "application/json")
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	secrets = append([]string{target}, secrets...)
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error would print the URL
		}
		return fmt.Errorf("%s: POST failed: %s", name, redactSecrets(err.Error(), secrets))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: POST answered %s: %s", name, resp.Status, redactSecrets(strings.TrimSpace(string(b)), secrets))
	}
	return nil
}

// redactSecrets replaces every secret, and the path of every secret that is
// a URL (webhook URLs carry their secret in the path), with
// redact.Placeholder.
func redactSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		s = redact.Secrets(s, sec)
		if u, err := url.Parse(sec); err == nil && u.Host != "" && u.Path != "" && u.Path != "/" {
			s = redact.Secrets(s, u.Path)
		}
	}
	return s
}
