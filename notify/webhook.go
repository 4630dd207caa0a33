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
)

// Webhook posts {"text": …} to URL.
type Webhook struct {
	// URL is the incoming-webhook URL (a secret).
	URL string
	// Name says where the URL came from, for errors (e.g. the env var).
	Name string
	// Client defaults to one with a 10 s timeout.
	Client *http.Client
}

// Message is the JSON body: Slack's incoming-webhook shape, which Mattermost,
// Rocket.Chat and Teams' Slack-compatible endpoints also accept.
type Message struct {
	Text string `json:"text"`
}

// Send posts text. Its errors never contain the URL.
func (w *Webhook) Send(ctx context.Context, text string) error {
	name := w.Name
	if name == "" {
		name = "webhook"
	}
	body, err := json.Marshal(Message{Text: text})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: not a valid URL", name)
	}
	req.Header.Set("Content-Type", "application/json")
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error would print the URL
		}
		return fmt.Errorf("%s: POST failed: %s", name, w.redact(err.Error()))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: POST answered %s: %s", name, resp.Status, w.redact(strings.TrimSpace(string(b))))
	}
	return nil
}

func (w *Webhook) redact(s string) string {
	if w.URL == "" {
		return s
	}
	s = strings.ReplaceAll(s, w.URL, "[REDACTED]")
	if u, err := url.Parse(w.URL); err == nil && u.Path != "" && u.Path != "/" {
		s = strings.ReplaceAll(s, u.Path, "[REDACTED]")
	}
	return s
}
