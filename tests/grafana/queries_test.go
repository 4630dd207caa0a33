package grafana

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/httpapi"
	"github.com/poolpilot/poolpilot/internal/pgtest"
	"github.com/poolpilot/poolpilot/internal/promtest"
	"github.com/poolpilot/poolpilot/pgpool"
)

func TestMain(m *testing.M) { pgtest.RunMain(m) }

// What Grafana substitutes with a 1 s scrape interval: $__rate_interval is
// max($__interval + scrape interval, 4 × scrape interval).
const (
	rateInterval = "4s"
	rangeWindow  = "5m"
)

// TestEveryPanelQueryReturnsData starts two instances (a real pgpool on a
// real PostgreSQL behind httpapi, serving a little traffic with some 5xx),
// a real Prometheus scraping them every second with the recording rules of
// docs/prometheus/poolpilot.rules.yml (evaluated every second), resolves
// the job and instance variables with their label_values queries, and
// runs every panel's query: each must parse and return a number.
func TestEveryPanelQueryReturnsData(t *testing.T) {
	d := loadDashboard(t)
	dsn := pgtest.NewDatabase(t)
	targets := []string{startInstance(t, dsn), startInstance(t, dsn)}
	prom := promtest.New(t, promtest.Options{Targets: targets, Job: "ledgerd", RuleFiles: []string{rulesEverySecond(t)}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := prom.WaitTargetsUp(ctx); err != nil {
		t.Fatalf("%v\n%s", err, prom.Logs())
	}
	vars := map[string][]string{}
	for _, name := range []string{"job", "instance"} {
		vars[name] = waitVariable(ctx, t, prom.URL, d.variable(name).Definition, vars)
	}
	if len(vars["job"]) != 1 || vars["job"][0] != "ledgerd" || len(vars["instance"]) != 2 {
		t.Fatalf("variables %v", vars)
	}
	pending := map[string]string{} // where → expr
	for _, q := range d.queries() {
		pending[q.where] = substitute(q.expr, vars)
	}
	last := map[string]string{}
	for len(pending) > 0 {
		for where, expr := range pending {
			ok, why, parseErr := hasData(ctx, prom.URL, expr)
			if parseErr != nil {
				t.Errorf("%s: %s: %v", where, expr, parseErr)
				delete(pending, where)
			} else if ok {
				delete(pending, where)
			} else {
				last[where] = why
			}
		}
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			for where, expr := range pending {
				t.Errorf("%s: no data: %s (%s)", where, expr, last[where])
			}
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
	// The check can fail: a misspelled metric has no data, a broken
	// expression does not parse.
	if ok, _, err := hasData(ctx, prom.URL, `poolpilot_pool_utilisation_ratio{job=~"ledgerd"}`); ok || err != nil {
		t.Errorf("a misspelled metric: data %v, error %v", ok, err)
	}
	if _, _, err := hasData(ctx, prom.URL, `rate(poolpilot_pool_acquires_total[$__rate_interval])`); err == nil {
		t.Error("an unsubstituted variable parsed")
	}
}

// startInstance opens a pool on dsn behind an httpapi server whose /work
// runs a query (and answers 500 for ?fail=1), drives requests at it until
// the test ends, and returns its host:port.
func startInstance(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := pgpool.LoadConfig(func(k string) string {
		return map[string]string{pgpool.EnvDatabaseURL: dsn, pgpool.EnvMax: "4", pgpool.EnvMin: "1"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgpool.Open(ctx, cfg, pgpool.Options{AppName: "grafana-test"})
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Options{Pool: pool, Service: "ledgerd"})
	mux := http.NewServeMux()
	api.Mount(mux)
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		var n int
		if err := pool.QueryRow(r.Context(), "select 1").Scan(&n); err != nil || r.URL.Query().Get("fail") == "1" {
			http.Error(w, "failed", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	srv := httptest.NewServer(api.Middleware(mux))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		drive(srv.URL, stop)
	}()
	t.Cleanup(func() { close(stop); wg.Wait(); srv.Close(); pool.Close() })
	return strings.TrimPrefix(srv.URL, "http://")
}

// drive sends about 50 requests a second, one in five failing, until stop.
func drive(base string, stop <-chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		path := "/work"
		if i%5 == 0 {
			path += "?fail=1"
		}
		if resp, err := client.Get(base + path); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}

// rulesEverySecond copies the recording rules with their groups evaluated
// every second instead of every 15 s.
func rulesEverySecond(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/prometheus/poolpilot.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "interval: 15s", "interval: 1s")
	if s == string(b) {
		t.Fatal("poolpilot.rules.yml has no `interval: 15s` to shorten")
	}
	path := filepath.Join(t.TempDir(), "poolpilot.rules.yml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// substitute does what Grafana does to a Prometheus query: multi-value
// variables become a regex alternation of their (regex-escaped) values.
func substitute(expr string, vars map[string][]string) string {
	for name, vals := range vars {
		esc := make([]string, len(vals))
		for i, v := range vals {
			esc[i] = strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
		}
		expr = strings.ReplaceAll(expr, "$"+name, "("+strings.Join(esc, "|")+")")
	}
	expr = strings.ReplaceAll(expr, "$__rate_interval", rateInterval)
	return strings.ReplaceAll(expr, "$__range", rangeWindow)
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// waitVariable resolves a label_values(selector, label) variable like
// Grafana (GET /api/v1/label/<label>/values?match[]=selector), waiting
// until it has values.
func waitVariable(ctx context.Context, t *testing.T, prom, def string, vars map[string][]string) []string {
	t.Helper()
	m := labelValuesRE.FindStringSubmatch(def)
	if m == nil {
		t.Fatalf("variable query %q is not label_values(selector, label)", def)
	}
	sel := substitute(m[1], vars)
	for {
		var body struct {
			Status string   `json:"status"`
			Data   []string `json:"data"`
			Error  string   `json:"error"`
		}
		err := getJSON(ctx, prom+"/api/v1/label/"+m[2]+"/values?match[]="+url.QueryEscape(sel), &body)
		if err == nil && body.Status == "success" && len(body.Data) > 0 {
			return body.Data
		}
		if body.Error != "" {
			t.Fatalf("%s: %s", def, body.Error)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("variable %s: no values (%v)", def, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// hasData runs an instant query: ok when it returns at least one number
// (not NaN); parseErr when Prometheus refuses the expression.
func hasData(ctx context.Context, prom, expr string) (ok bool, why string, parseErr error) {
	var body struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(ctx, prom+"/api/v1/query?query="+url.QueryEscape(expr), &body); err != nil {
		return false, err.Error(), nil
	}
	if body.Status != "success" {
		if body.ErrorType == "bad_data" {
			return false, "", fmt.Errorf("%s", body.Error)
		}
		return false, body.Error, nil
	}
	if body.Data.ResultType != "vector" {
		return false, "", fmt.Errorf("result type %s, want vector", body.Data.ResultType)
	}
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(v) {
			return true, "", nil
		}
	}
	return false, fmt.Sprintf("%d series, none with a number", len(body.Data.Result)), nil
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
