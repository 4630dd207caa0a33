package plan

import (
	"strings"
	"testing"
)

const seedNotify = "  webhook_env: POOLPILOT_WEBHOOK_URL"

func TestNotifyPagingFields(t *testing.T) {
	seed := string(seedPlan(t))
	if !strings.Contains(seed, seedNotify) {
		t.Fatalf("seed plan lacks %q", seedNotify)
	}
	good := strings.Replace(seed, seedNotify, seedNotify+
		"\n  pagerduty_routing_key_env: PD_ROUTING_KEY\n  pagerduty_url: https://events.eu.pagerduty.com/v2/enqueue\n  events_webhook_env: POOLPILOT_EVENTS_URL", 1)
	p, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Notify; n.PagerDutyRoutingKeyEnv != "PD_ROUTING_KEY" || n.EventsWebhookEnv != "POOLPILOT_EVENTS_URL" || n.PagerDutyURL != "https://events.eu.pagerduty.com/v2/enqueue" {
		t.Errorf("notify %+v", n)
	}
	for _, c := range []struct{ add, want string }{
		{"pagerduty_routing_key_env: pd-key", "notify.pagerduty_routing_key_env"},
		{"events_webhook_env: 'EVENTS URL'", "notify.events_webhook_env"},
		{"pagerduty_url: https://events.pagerduty.com/v2/enqueue", "notify.pagerduty_url: is set but notify.pagerduty_routing_key_env is not"},
		{"pagerduty_routing_key_env: K\n  pagerduty_url: events.pagerduty.com", "notify.pagerduty_url"},
		{"pagerduty_routing_key_env: K\n  pagerduty_url: http://pd.example.com/v2/enqueue", "must be https"},
		{"pagerduty_routing_key_env: K\n  pagerduty_url: https://u:p@pd.example.com/", "must not hold credentials"},
	} {
		_, err := Parse([]byte(strings.Replace(seed, seedNotify, seedNotify+"\n  "+c.add, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.add, err, c.want)
		}
	}
	loop := strings.Replace(seed, seedNotify, seedNotify+"\n  pagerduty_routing_key_env: K\n  pagerduty_url: http://127.0.0.1:9/v2/enqueue", 1)
	if _, err := Parse([]byte(loop)); err != nil {
		t.Errorf("loopback http endpoint refused: %v", err)
	}
}
