package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// DefaultPagerDutyURL is PagerDuty's Events API v2 endpoint (the EU
// service region uses https://events.eu.pagerduty.com/v2/enqueue).
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty actions and severities of the Events API v2.
const (
	ActionTrigger = "trigger"
	ActionResolve = "resolve"

	SeverityCritical = "critical"
	SeverityError    = "error"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// PagerDuty sends alert events to PagerDuty's Events API v2.
type PagerDuty struct {
	// RoutingKey is the integration key of a PagerDuty service (a secret).
	RoutingKey string
	// URL is the endpoint; "" is DefaultPagerDutyURL.
	URL string
	// Name says where the routing key came from (its env var), for errors.
	Name string
	// Client defaults to one with a 10 s timeout.
	Client *http.Client
}

// Alert is one page or its resolution. A trigger needs Summary, Source and
// Severity; a resolve needs only the DedupKey of the trigger.
type Alert struct {
	Action    string // ActionTrigger or ActionResolve
	DedupKey  string // one per run: a retrigger updates, a resolve closes
	Summary   string // at most 1024 characters (longer is cut)
	Source    string
	Severity  string
	Component string
	Group     string
	Class     string
	Details   map[string]any
	Time      time.Time
}

// PagerDutyEvent is the Events API v2 body.
type PagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"`
	DedupKey    string            `json:"dedup_key,omitempty"`
	Payload     *PagerDutyPayload `json:"payload,omitempty"`
	Client      string            `json:"client,omitempty"`
}

// PagerDutyPayload is the payload of a trigger event.
type PagerDutyPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Event builds the Events API body for a.
func (p *PagerDuty) Event(a Alert) (PagerDutyEvent, error) {
	ev := PagerDutyEvent{RoutingKey: p.RoutingKey, EventAction: a.Action, DedupKey: a.DedupKey, Client: "poolpilot"}
	if a.DedupKey == "" {
		return ev, fmt.Errorf("pagerduty %s: dedup key is required", a.Action)
	}
	switch a.Action {
	case ActionResolve:
		return ev, nil
	case ActionTrigger:
	default:
		return ev, fmt.Errorf("pagerduty: event action %q is not trigger or resolve", a.Action)
	}
	switch a.Severity {
	case SeverityCritical, SeverityError, SeverityWarning, SeverityInfo:
	default:
		return ev, fmt.Errorf("pagerduty: severity %q is not critical, error, warning or info", a.Severity)
	}
	if a.Summary == "" || a.Source == "" {
		return ev, fmt.Errorf("pagerduty trigger: summary and source are required")
	}
	summary := a.Summary
	if len(summary) > 1024 {
		summary = summary[:1021] + "..."
	}
	ev.Payload = &PagerDutyPayload{Summary: summary, Source: a.Source, Severity: a.Severity,
		Component: a.Component, Group: a.Group, Class: a.Class, CustomDetails: a.Details}
	if !a.Time.IsZero() {
		ev.Payload.Timestamp = a.Time.UTC().Format(time.RFC3339Nano)
	}
	return ev, nil
}

// Send posts a. Its errors never contain the routing key or the URL.
func (p *PagerDuty) Send(ctx context.Context, a Alert) error {
	ev, err := p.Event(a)
	if err != nil {
		return err
	}
	target := p.URL
	if target == "" {
		target = DefaultPagerDutyURL
	}
	name := p.Name
	if name == "" {
		name = "pagerduty"
	}
	return postJSON(ctx, p.Client, target, name, ev, p.RoutingKey)
}
