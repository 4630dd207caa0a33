package promtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	got := Config(Options{Targets: []string{"127.0.0.1:1", "127.0.0.1:2"}, RuleFiles: []string{"/tmp/a.rules.yml"}})
	for _, want := range []string{"scrape_interval: 1s", "scrape_timeout: 1s", `metrics_path: "/metrics"`, `targets: ["127.0.0.1:1", "127.0.0.1:2"]`, "rule_files:\n  - \"/tmp/a.rules.yml\"\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
}

// TestScrapesAGauge starts a real Prometheus scraping a hand-written
// exposition and reads the gauge back.
func TestScrapesAGauge(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write([]byte("# TYPE promtest_gauge gauge\npromtest_gauge 42\n"))
	}))
	defer target.Close()
	srv := New(t, Options{Targets: []string{strings.TrimPrefix(target.URL, "http://")}})
	if err := srv.WaitTargetsUp(ctx); err != nil {
		t.Fatalf("%v\n%s", err, srv.Logs())
	}
	resp, err := http.Get(srv.URL + "/api/v1/query?query=" + url.QueryEscape("promtest_gauge"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	if len(a.Data.Result) != 1 || a.Data.Result[0].Value[1] != "42" {
		t.Fatalf("answer %+v", a)
	}
	dir := srv.Dir
	srv.Close()
	if _, err := http.Get(srv.URL + "/-/ready"); err == nil {
		t.Fatal("prometheus still answers after Close")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory %s left behind: %v", dir, err)
	}
}
