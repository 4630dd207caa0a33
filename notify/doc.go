// Package notify sends run notifications to a chat webhook as
// Slack-compatible JSON ({"text": "…"}). A webhook URL embeds a secret: it
// never appears in an error or a log line.
package notify
