package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/internal/runtest"
)

// TestRunThroughALoadBalancerCountsItsErrors: the plan's load test goes
// through a load balancer in front of the two instances (load_test.url is
// not an instance), and the balancer fails every other request with 502
// (a broken path to one instance: the services themselves see no error).
// Those failures cannot be pinned to an instance, so they count for every
// instance's error rate: the error-rate trigger fires and the run rolls
// back (exit 3). The evidence's client totals name the balancer, shared.
func TestRunThroughALoadBalancerCountsItsErrors(t *testing.T) {
	f := &runFixture{runtest.New(t, runtest.Options{Soak: 4 * time.Second, CLI: inProcessCLI(t)})}
	var n atomic.Int64
	var proxies []*httputil.ReverseProxy
	for _, h := range f.Health {
		u, err := url.Parse(h)
		if err != nil {
			t.Fatal(err)
		}
		proxies = append(proxies, httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host}))
	}
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if i%2 == 0 {
			http.Error(w, "upstream unreachable", http.StatusBadGateway)
			return
		}
		proxies[int(i/2)%len(proxies)].ServeHTTP(w, r)
	}))
	defer lb.Close()
	f.P.LoadTest.Workload, f.P.LoadTest.URL = "http", lb.URL+"/v1/tenants/t1/trial-balance"
	f.Write()
	f.Approve()
	out, stderr, code := runCLI(t, f.Getenv, "run", f.PlanFile)
	if code != poolpilot.ExitFailed || !strings.Contains(out+stderr, "error_rate_high") {
		t.Fatalf("exit %d, want 3 rolled back by error_rate_high\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "through a load balancer") {
		t.Errorf("the load test line does not say its requests go through a load balancer:\n%s", stderr)
	}
	f.ExpectAllAt(f.P.Change.From)
	dir := runDirOf(t, out)
	b, err := os.ReadFile(filepath.Join(dir, evidence.FileSyntheticLoadTest))
	if err != nil {
		t.Fatal(err)
	}
	var lt struct {
		Client []evidence.ClientInstance `json:"client"`
	}
	if err := json.Unmarshal(b, &lt); err != nil {
		t.Fatal(err)
	}
	lbKey := strings.TrimPrefix(lb.URL, "http://")
	found := false
	for _, c := range lt.Client {
		found = found || c.Instance == lbKey && c.Shared && c.Failures > 0
	}
	if !found {
		t.Errorf("client totals %+v lack the balancer %s, shared, with failures", lt.Client, lbKey)
	}
}
