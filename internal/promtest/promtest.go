package promtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolpilot/poolpilot/internal/pgcluster"
	"github.com/poolpilot/poolpilot/internal/proc"
	"github.com/poolpilot/poolpilot/internal/testutil"
)

// ErrNoBinary says the prometheus binary is not installed.
var ErrNoBinary = errors.New("promtest: prometheus not found: install it with `apt-get install prometheus`")

// Options configure a server.
type Options struct {
	// Targets are host:port addresses scraped at MetricsPath.
	Targets []string
	// ScrapeInterval is the scrape (and rule evaluation) interval;
	// default 1s. The scrape timeout equals it.
	ScrapeInterval time.Duration
	// MetricsPath defaults to /metrics.
	MetricsPath string
	// Job is the job label; default "poolpilot".
	Job string
	// Binary is the prometheus executable; default "prometheus" on PATH.
	Binary string
	// RuleFiles are rule files (absolute paths) Prometheus loads; their
	// groups are evaluated at their own interval (default ScrapeInterval).
	RuleFiles []string
}

// Server is a running Prometheus.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	Addr string
	Dir  string // config and TSDB

	cmd  *exec.Cmd
	done chan struct{}
	logs *testutil.Buffer
	once sync.Once
}

// Config renders the prometheus.yml for opts.
func Config(opts Options) string {
	opts = defaults(opts)
	iv := opts.ScrapeInterval.String()
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", iv, iv, iv)
	if len(opts.RuleFiles) > 0 {
		b.WriteString("rule_files:\n")
		for _, f := range opts.RuleFiles {
			fmt.Fprintf(&b, "  - %q\n", f)
		}
	}
	fmt.Fprintf(&b, "scrape_configs:\n  - job_name: %q\n    metrics_path: %q\n    static_configs:\n      - targets: [", opts.Job, opts.MetricsPath)
	for i, t := range opts.Targets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", t)
	}
	b.WriteString("]\n")
	return b.String()
}

func defaults(opts Options) Options {
	if opts.ScrapeInterval <= 0 {
		opts.ScrapeInterval = time.Second
	}
	if opts.MetricsPath == "" {
		opts.MetricsPath = "/metrics"
	}
	if opts.Job == "" {
		opts.Job = "poolpilot"
	}
	if opts.Binary == "" {
		opts.Binary = "prometheus"
	}
	return opts
}

// Start writes the configuration into a new temporary directory, starts
// prometheus and waits until it is ready. Close stops it and removes the
// directory.
func Start(ctx context.Context, opts Options) (*Server, error) {
	opts = defaults(opts)
	bin, err := exec.LookPath(opts.Binary)
	if err != nil {
		return nil, ErrNoBinary
	}
	dir, err := os.MkdirTemp("", "promtest-")
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(Config(opts)), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := launch(ctx, bin, dir, cfg)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func launch(ctx context.Context, bin, dir, cfg string) (*Server, error) {
	port, err := pgcluster.FreePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s := &Server{URL: "http://" + addr, Addr: addr, Dir: dir, done: make(chan struct{}), logs: &testutil.Buffer{}}
	s.cmd = exec.Command(bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--storage.tsdb.retention.time=1h",
		"--log.level=warn",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.SysProcAttr = proc.SysProcAttr(proc.Attr{DeathSignal: syscall.SIGKILL})
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("promtest: start %s: %w", bin, err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx, 30*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\nprometheus output:\n%s", err, s.logs.String())
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("promtest: prometheus exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("promtest: prometheus not ready within %s", limit)
		case <-tick.C:
		}
	}
}

// New starts a server for one test and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// WaitTargetsUp waits until Prometheus has scraped every target
// successfully at least once.
func (s *Server) WaitTargetsUp(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		up, msg, err := s.targetsUp(ctx)
		if err == nil && up {
			return nil
		}
		if err != nil {
			msg = err.Error()
		}
		last = msg
		select {
		case <-ctx.Done():
			return fmt.Errorf("promtest: targets not up: %s", last)
		case <-s.done:
			return errors.New("promtest: prometheus exited")
		case <-tick.C:
		}
	}
}

func (s *Server) targetsUp(ctx context.Context) (bool, string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/targets?state=active", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, "", err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			ActiveTargets []struct {
				ScrapeURL string `json:"scrapeUrl"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, "", fmt.Errorf("targets: %w", err)
	}
	if len(body.Data.ActiveTargets) == 0 {
		return false, "no active target yet", nil
	}
	for _, t := range body.Data.ActiveTargets {
		if t.Health != "up" {
			return false, fmt.Sprintf("%s is %s %s", t.ScrapeURL, t.Health, t.LastError), nil
		}
	}
	return true, "", nil
}

// Logs returns prometheus's output so far.
func (s *Server) Logs() string { return s.logs.String() }

// Close stops prometheus (SIGTERM, then SIGKILL after 5 s) and removes
// its directory.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.stop()
		os.RemoveAll(s.Dir)
	})
	return nil
}

// Stop stops prometheus and keeps its directory (for a test that needs the
// server gone, e.g. to check what a client does then).
func (s *Server) Stop() { s.stop() }

func (s *Server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}
