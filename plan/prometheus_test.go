package plan

import (
	"strings"
	"testing"
)

func TestPrometheusSection(t *testing.T) {
	seed := string(seedPlan(t))
	good := "prometheus:\n  url: https://prom.internal:9090\n  bearer_token_env: PROM_TOKEN\n  headers_env: {X-Scope-OrgID: PROM_TENANT}\n  ca_file: ca.pem\n"
	p, err := Parse([]byte(seed + good))
	if err != nil {
		t.Fatal(err)
	}
	if pr := p.Prometheus; pr.URL != "https://prom.internal:9090" || pr.BearerTokenEnv != "PROM_TOKEN" || pr.HeadersEnv["X-Scope-OrgID"] != "PROM_TENANT" || pr.CAFile != "ca.pem" {
		t.Fatalf("prometheus %+v", pr)
	}
	back, err := Parse(p.YAML())
	if err != nil || back.Prometheus.HeadersEnv["X-Scope-OrgID"] != "PROM_TENANT" {
		t.Fatalf("normalised YAML lost the section: %v %+v", err, back)
	}
	for _, c := range []struct{ section, want string }{
		{"prometheus:\n  url: prom:9090\n", "prometheus.url"},
		{"prometheus:\n  url: http://amy:hunter2@prom:9090\n", "must not hold credentials"},
		{"prometheus:\n  bearer_token_env: PROM_TOKEN\n", "prometheus.url: is required"},
		{"prometheus:\n  url: http://prom:9090\n  ca_file: ca.pem\n", "is for an https prometheus.url"},
		{"prometheus:\n  url: http://prom:9090\n  username_env: PROM_USER\n", "needs password_env too"},
		{"prometheus:\n  url: http://prom:9090\n  bearer_token_env: T\n  username_env: U\n  password_env: P\n", "not both"},
		{"prometheus:\n  url: http://prom:9090\n  bearer_token_env: PROM-TOKEN\n", "prometheus.bearer_token_env"},
		{"prometheus:\n  url: http://prom:9090\n  headers_env: {\"Bad Header\": X}\n", "not an HTTP header name"},
		{"prometheus:\n  url: http://prom:9090\n  headers_env: {X-Tenant: not-a-var}\n", "prometheus.headers_env.X-Tenant"},
		{"prometheus:\n  url: http://prom:9090\n  token: abc\n", "token"},
	} {
		_, err := Parse([]byte(seed + c.section))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.section, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks a password: %v", err)
		}
	}
}
