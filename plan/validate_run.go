package plan

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/poolpilot/poolpilot/redact"
)

// HeaderPattern is an HTTP header name (RFC 9110 token characters).
const HeaderPattern = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"

var headerRE = regexp.MustCompile(HeaderPattern)

// validateTiming checks the durations of the run's phases and the
// evaluation. Defaults are applied before, so a zero here was written.
func (p *Plan) validateTiming(c *checker) {
	positive := func(path string, d time.Duration, example string) {
		if d <= 0 {
			c.add(path, "must be a positive duration such as %s (got %s); leave it out for the default", example, d)
		}
	}
	positive("$.rollout.verify_timeout", p.Rollout.VerifyTimeout.D(), "60s")
	positive("$.backup.max_age", p.Backup.MaxAge.D(), "24h")
	positive("$.baseline.duration", p.Baseline.Duration.D(), "60s")
	if p.Soak.Duration <= 0 {
		c.add("$.soak.duration", "must be a positive duration such as 60m")
	}
	if p.Soak.Rate < 0 {
		c.add("$.soak.rate", "must not be negative (got %g)", p.Soak.Rate)
	}
	e := p.Evaluation
	if e.Interval.D() < 10*time.Millisecond {
		c.add("$.evaluation.interval", "must be at least 10ms (got %s); leave it out for the default (1s)", e.Interval)
	}
	positive("$.evaluation.max_inconclusive", e.MaxInconclusive.D(), "60s")
	if !(e.MinCoverage > 0 && e.MinCoverage <= 1) { // also refuses NaN
		c.add("$.evaluation.min_coverage", "must be more than 0 and at most 1, a share of the soak's watched time such as 0.9 (got %g)", e.MinCoverage)
	}
	if m := p.RollbackPolicy.Monitor; m != nil && *m < 0 {
		c.add("$.rollback.monitor", "must not be negative (got %s); 0s turns the monitoring after a rollback off", m)
	}
}

// validatePrometheus checks the prometheus section lightly: the URL, the
// names of the variables that hold its secrets, and the CA file. A promql
// criterion without prometheus.url is refused where the sources are built,
// not here.
func (p *Plan) validatePrometheus(c *checker) {
	pr := p.Prometheus
	if pr.URL == "" && (pr.BearerTokenEnv != "" || pr.UsernameEnv != "" || pr.PasswordEnv != "" || len(pr.HeadersEnv) > 0 || pr.CAFile != "") {
		c.add("$.prometheus.url", "is required when the prometheus section sets credentials, headers or a CA file")
	}
	c.httpURL("$.prometheus.url", pr.URL, false)
	c.envVar("$.prometheus.bearer_token_env", pr.BearerTokenEnv, false)
	c.envVar("$.prometheus.username_env", pr.UsernameEnv, false)
	c.envVar("$.prometheus.password_env", pr.PasswordEnv, false)
	if pr.UsernameEnv != "" && pr.PasswordEnv == "" {
		c.add("$.prometheus.username_env", "needs password_env too (basic auth): give both or neither")
	} else if pr.UsernameEnv == "" && pr.PasswordEnv != "" {
		c.add("$.prometheus.password_env", "needs username_env too (basic auth): give both or neither")
	}
	if pr.BearerTokenEnv != "" && pr.UsernameEnv != "" {
		c.add("$.prometheus.bearer_token_env", "is refused with username_env: use a bearer token or basic auth, not both")
	}
	names := make([]string, 0, len(pr.HeadersEnv))
	for h := range pr.HeadersEnv {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		path := "$.prometheus.headers_env." + h
		if !headerRE.MatchString(h) {
			c.add(path, "%q is not an HTTP header name", h)
			continue
		}
		if strings.EqualFold(h, "Authorization") {
			c.add(path, "use bearer_token_env or username_env/password_env for Authorization")
		}
		c.envVar(path, pr.HeadersEnv[h], true)
	}
	if pr.CAFile != "" {
		if strings.TrimSpace(pr.CAFile) == "" {
			c.add("$.prometheus.ca_file", "must not be blank")
		} else if u, err := url.Parse(pr.URL); err == nil && u.Scheme != "https" {
			c.add("$.prometheus.ca_file", "is for an https prometheus.url (url is %q)", redact.URL(pr.URL))
		}
	}
}
