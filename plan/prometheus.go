package plan

import (
	"net/url"
	"sort"
	"strings"
)

// validatePrometheus checks the prometheus section: an http(s) URL without
// credentials in it (they come from the *_env variables), variable names,
// header names, one kind of auth, and nothing set without a URL.
func (p *Plan) validatePrometheus(c *checker) {
	pr := p.Prometheus
	if pr.URL == "" {
		if pr.BearerTokenEnv != "" || pr.UsernameEnv != "" || pr.PasswordEnv != "" || len(pr.HeadersEnv) > 0 || pr.CAFile != "" {
			c.add("$.prometheus.url", "is required when the prometheus section sets credentials, headers or a CA file")
		}
		return
	}
	u, err := url.Parse(pr.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.add("$.prometheus.url", "%q must be an http:// or https:// URL such as http://prometheus:9090", pr.URL)
	case u.User != nil:
		c.add("$.prometheus.url", "must not carry credentials: name the variables that hold them in prometheus.username_env and prometheus.password_env")
	case pr.CAFile != "" && u.Scheme != "https":
		c.add("$.prometheus.ca_file", "is only used with an https:// URL (prometheus.url is %s)", u.Scheme)
	}
	c.envVar("$.prometheus.bearer_token_env", pr.BearerTokenEnv, false)
	c.envVar("$.prometheus.username_env", pr.UsernameEnv, false)
	c.envVar("$.prometheus.password_env", pr.PasswordEnv, false)
	if (pr.UsernameEnv == "") != (pr.PasswordEnv == "") {
		c.add("$.prometheus.password_env", "basic auth needs both prometheus.username_env and prometheus.password_env")
	}
	if pr.BearerTokenEnv != "" && (pr.UsernameEnv != "" || pr.PasswordEnv != "") {
		c.add("$.prometheus.bearer_token_env", "give a bearer token or basic auth (username_env, password_env), not both")
	}
	names := make([]string, 0, len(pr.HeadersEnv))
	for h := range pr.HeadersEnv {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		path := "$.prometheus.headers_env." + h
		if h == "" || strings.ContainsAny(h, " \t\r\n\"(),/:;<=>?@[\\]{}") {
			c.add(path, "%q is not an HTTP header name", h)
		} else if strings.EqualFold(h, "Authorization") && (pr.BearerTokenEnv != "" || pr.UsernameEnv != "") {
			c.add(path, "an Authorization header and bearer_token_env or basic auth: give one")
		}
		c.envVar(path, pr.HeadersEnv[h], true)
	}
}
