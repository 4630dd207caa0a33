package plan

import (
	"net/url"

	"github.com/poolpilot/poolpilot/redact"
)

// DefaultPagerDutyURL is the PagerDuty Events API v2 endpoint used when
// notify.pagerduty_url is empty (same value as notify.DefaultPagerDutyURL).
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// validateNotify checks the notify section: env var names, and an
// endpoint override that is an absolute URL without credentials (https,
// or http to a loopback host for tests).
func (p *Plan) validateNotify(c *checker) {
	n := p.Notify
	c.envVar("$.notify.webhook_env", n.WebhookEnv, false)
	c.envVar("$.notify.pagerduty_routing_key_env", n.PagerDutyRoutingKeyEnv, false)
	c.envVar("$.notify.events_webhook_env", n.EventsWebhookEnv, false)
	if n.PagerDutyURL == "" {
		return
	}
	if n.PagerDutyRoutingKeyEnv == "" {
		c.add("$.notify.pagerduty_url", "is set but notify.pagerduty_routing_key_env is not: nothing would page")
	}
	u, err := url.Parse(n.PagerDutyURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		c.add("$.notify.pagerduty_url", "%q is not an absolute http(s) URL (e.g. %s)", redact.URL(n.PagerDutyURL), DefaultPagerDutyURL)
	case u.User != nil:
		c.add("$.notify.pagerduty_url", "must not hold credentials: the routing key comes from pagerduty_routing_key_env")
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		c.add("$.notify.pagerduty_url", "must be https (plain http only to a loopback host, for tests)")
	}
}

func loopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}
