package assemble

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/plan"
	"github.com/poolpilot/poolpilot/plan/plantest"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

func testPlan(t *testing.T) *plan.Plan {
	t.Helper()
	p := plantest.Seed(t)
	p.Criteria = append(p.Criteria,
		poolpilot.CriterionSpec{Name: "prom_a", Role: poolpilot.RoleRollback, Expr: "promql > 1", Query: "up == 0"},
		poolpilot.CriterionSpec{Name: "prom_b", Role: poolpilot.RoleRollback, Expr: "promql > 1", Query: "sum(up)", Optional: true})
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func byName(unfed []Unfed) map[string]Unfed {
	out := map[string]Unfed{}
	for _, u := range unfed {
		out[u.Name] = u
	}
	return out
}

// Without Prometheus or a database: the health criteria are kept; the
// promql ones (optional or not), db.cpu and integrity are not, each with why.
func TestSplitSaysWhyACriterionCannotBeFed(t *testing.T) {
	p := testPlan(t)
	p.LoadTest.Workload = "http"
	set, err := Sources(context.Background(), p, env(nil), Options{Pushed: []string{"violations"}})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	kept, unfed, err := set.Split(p.Criteria)
	if err != nil {
		t.Fatal(err)
	}
	u := byName(unfed)
	if len(kept)+len(unfed) != len(p.Criteria) || len(unfed) != 4 {
		t.Fatalf("kept %d, unfed %v", len(kept), unfed)
	}
	for name, want := range map[string]string{"prom_a": "prometheus.url", "prom_b": "prometheus.url", "db_cpu_high": "DATABASE_URL is not set", "integrity": "ledger workload"} {
		if !strings.Contains(u[name].Reason, want) {
			t.Errorf("%s: %+v, want a reason with %q", name, u[name], want)
		}
	}
	if u["prom_a"].Optional || !u["prom_b"].Optional || u["prom_a"].Metric != "promql:up == 0" {
		t.Errorf("promql criteria: %+v %+v", u["prom_a"], u["prom_b"])
	}
	if _, ok := u["tenant_isolation"]; ok {
		t.Error("violations is pushed: tenant_isolation must be kept")
	}
	// Strict (watch): a named but unset database variable is bad input.
	if _, err := Sources(context.Background(), p, env(nil), Options{Strict: true}); poolpilot.ExitCode(err) != poolpilot.ExitBadInput || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("strict without DATABASE_URL: %v", err)
	}
}

// With a real database and a Prometheus URL every criterion has a source,
// the credentials are secrets, and Close closes the pool it opened.
func TestSourcesFeedEveryCriterion(t *testing.T) {
	p := testPlan(t)
	p.LoadTest.Workload = "ledger"
	p.Prometheus = plan.Prometheus{URL: "http://127.0.0.1:9", UsernameEnv: "PROM_USER", PasswordEnv: "PROM_PASS", HeadersEnv: map[string]string{"X-Scope-OrgID": "PROM_TENANT"}}
	e := env(map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "PROM_USER": "amy", "PROM_PASS": "pw-s3cret", "PROM_TENANT": "t-s3cret"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	set, err := Sources(ctx, p, e, Options{Interval: 500 * time.Millisecond, Pushed: []string{"violations"}})
	if err != nil {
		t.Fatal(err)
	}
	_, unfed, err := set.Split(p.Criteria)
	if err != nil || len(unfed) != 0 {
		t.Fatalf("unfed %v, %v", unfed, err)
	}
	var names []string
	for _, s := range set.Sources {
		names = append(names, s.Name())
	}
	if got := strings.Join(names, ","); got != "health,integrity,prom,pgstat,hostcpu" {
		t.Errorf("sources %s", got)
	}
	if s := strings.Join(set.Secrets, ","); !strings.Contains(s, "pw-s3cret") || !strings.Contains(s, "t-s3cret") || strings.Contains(s, "amy") {
		t.Errorf("secrets %q: want the password and the header value, not the user name", s)
	}
	if len(set.closers) != 1 {
		t.Fatalf("%d closers, want the pool's", len(set.closers))
	}
	set.Close()
	set.Close() // idempotent
}

func TestPromAuthNamesUnsetVariables(t *testing.T) {
	p := testPlan(t)
	p.Prometheus = plan.Prometheus{URL: "https://prom:9090", BearerTokenEnv: "PROM_TOKEN", HeadersEnv: map[string]string{"X-Scope-OrgID": "PROM_TENANT", "X-Other": "PROM_OTHER"}}
	_, err := PromAuth(p, env(map[string]string{"PROM_OTHER": "set"}))
	var ee *poolpilot.ExitError
	if !errors.As(err, &ee) || ee.Code != poolpilot.ExitBadInput {
		t.Fatalf("%v: want bad input", err)
	}
	for _, want := range []string{"PROM_TOKEN (prometheus.bearer_token_env)", "PROM_TENANT (prometheus.headers_env.X-Scope-OrgID)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "PROM_OTHER") {
		t.Errorf("%v names a variable that is set", err)
	}
	a, err := PromAuth(p, env(map[string]string{"PROM_TOKEN": "tok", "PROM_TENANT": "ten", "PROM_OTHER": "o"}))
	if err != nil || a.BearerToken != "tok" || a.Headers["X-Scope-OrgID"] != "ten" || len(a.Secrets()) != 3 {
		t.Fatalf("%+v %v", a, err)
	}
	// A CA file that cannot be read is bad input, from Sources.
	p.Prometheus.CAFile = "/nonexistent/ca.pem"
	p.Database.DSNEnv = ""
	_, err = Sources(context.Background(), p, env(map[string]string{"PROM_TOKEN": "tok", "PROM_TENANT": "ten", "PROM_OTHER": "o"}), Options{})
	if poolpilot.ExitCode(err) != poolpilot.ExitBadInput || !strings.Contains(err.Error(), "/nonexistent/ca.pem") {
		t.Errorf("unreadable CA file: %v", err)
	}
}

// Probe asks each query once: one Prometheus refuses (a syntax error) no
// longer counts as fed; one no series matches yet still does.
func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("query") == "sum(" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"parse error: unclosed left parenthesis"}`))
			return
		}
		w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	}))
	defer srv.Close()
	p := testPlan(t)
	p.Criteria = []poolpilot.CriterionSpec{
		{Name: "bad", Role: poolpilot.RoleRollback, Expr: "promql > 1", Query: "sum("},
		{Name: "later", Role: poolpilot.RoleRollback, Expr: "promql > 1", Query: "nothing_yet"},
	}
	p.Prometheus.URL = srv.URL
	p.Database.DSNEnv = ""
	set, err := Sources(context.Background(), p, env(nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	set.Probe(context.Background())
	_, unfed, err := set.Split(p.Criteria)
	if err != nil || len(unfed) != 1 || unfed[0].Name != "bad" || !strings.Contains(unfed[0].Reason, "Prometheus did not answer the query") || !strings.Contains(unfed[0].Reason, "bad_data") {
		t.Fatalf("unfed %+v, %v: want only the syntax error", unfed, err)
	}
}
