package notify

import (
	"context"
	"net/http"
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
	return postJSON(ctx, w.Client, w.URL, w.Name, Message{Text: text})
}
