// Package notify tells people and machines what a run does: chat messages
// to a Slack-compatible webhook ({"text": "…"}), pages to PagerDuty's
// Events API v2 (trigger, resolve, one dedup key per run) and one typed
// JSON event per audit event to a generic webhook (schema
// "poolpilot.event/1"). URLs and routing keys are secrets: they never
// appear in an error or a log line.
package notify
