package assemble

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/source/prom"
)

// PromAuth reads the credentials and headers the plan's prometheus section
// names from the environment. A variable that is named but unset or empty
// is bad input naming it (and the field that names it); the values are
// never part of an error.
func PromAuth(p *plan.Plan, getenv func(string) string) (prom.Auth, error) {
	pr := p.Prometheus
	var a prom.Auth
	var missing []string
	read := func(field, name string) string {
		if name == "" {
			return ""
		}
		v := ""
		if getenv != nil {
			v = getenv(name)
		}
		if v == "" {
			missing = append(missing, name+" (prometheus."+field+")")
		}
		return v
	}
	a.BearerToken = read("bearer_token_env", pr.BearerTokenEnv)
	a.Username = read("username_env", pr.UsernameEnv)
	a.Password = read("password_env", pr.PasswordEnv)
	names := make([]string, 0, len(pr.HeadersEnv))
	for h := range pr.HeadersEnv {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		if v := read("headers_env."+h, pr.HeadersEnv[h]); v != "" {
			if a.Headers == nil {
				a.Headers = map[string]string{}
			}
			a.Headers[h] = v
		}
	}
	if len(missing) > 0 {
		return prom.Auth{}, poolpilot.BadInput("environment variables not set or empty: %s", strings.Join(missing, ", "))
	}
	return a, nil
}

// promSource is the Prometheus source of the plan's promql criteria, nil
// when the plan has none; without a URL each query gets a note.
func (b *builder) promSource() error {
	var queries []string
	for _, c := range b.p.Criteria {
		if c.Query != "" {
			queries = append(queries, c.Query)
		}
	}
	if len(queries) == 0 {
		return nil
	}
	promURL := b.p.Prometheus.URL
	if b.o.PromURL != "" {
		promURL = b.o.PromURL
	}
	if promURL == "" {
		for _, q := range queries {
			b.set.Notes[poolpilot.PromQLMetric(q)] = "no Prometheus to query: set the plan's prometheus.url (or give --prometheus URL to watch)"
		}
		return nil
	}
	auth, err := PromAuth(b.p, b.getenv)
	if err != nil {
		return err
	}
	ps, err := prom.New(promURL, queries, prom.Options{Timeout: b.timeout, Auth: auth, CAFile: b.p.Path(b.p.Prometheus.CAFile)})
	if err != nil {
		return poolpilot.BadInput("prometheus: %v", err)
	}
	b.set.Secrets = append(b.set.Secrets, auth.Secrets()...)
	b.add(ps)
	return nil
}

// Probe asks Prometheus each promql query once, as preflight does before
// a run: a query that fails (Prometheus unreachable, credentials refused,
// a syntax error, a range vector) can feed nothing, so its metric is no
// longer provided and its note says why. A query that no series matches
// yet still counts as fed: the series may appear under load.
func (s *SourceSet) Probe(ctx context.Context) {
	for _, src := range s.Sources {
		ps, ok := src.(*prom.Source)
		if !ok {
			continue
		}
		for _, q := range ps.Queries() {
			if _, err := ps.Query(ctx, q); err != nil && !errors.Is(err, prom.ErrEmpty) {
				m := poolpilot.PromQLMetric(q)
				delete(s.Provided, m)
				s.Notes[m] = "Prometheus did not answer the query: " + err.Error()
			}
		}
	}
}
