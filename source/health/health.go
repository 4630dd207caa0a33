package health

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
)

// Name is the source's name.
const Name = "health"

// DefaultTimeout bounds one poll.
const DefaultTimeout = 2 * time.Second

// Metrics are the metrics the source provides, per instance.
var metrics = []string{
	poolpilot.MetricReachable, poolpilot.MetricDowntime, poolpilot.MetricErrorRate, poolpilot.MetricLatencyP50, poolpilot.MetricLatencyP95, poolpilot.MetricLatencyP99, poolpilot.MetricRequests,
	poolpilot.MetricPoolMax, poolpilot.MetricPoolMin, poolpilot.MetricPoolTotal, poolpilot.MetricPoolAcquired, poolpilot.MetricPoolIdle, poolpilot.MetricPoolUtilization, poolpilot.MetricPoolWaiting,
	poolpilot.MetricPoolOldestWait, poolpilot.MetricPoolWaitP50, poolpilot.MetricPoolWaitP95, poolpilot.MetricPoolWaitP99, poolpilot.MetricPoolChurn,
	poolpilot.MetricPoolAcquireTimeouts, poolpilot.MetricPoolServerRefusals, poolpilot.MetricPoolOpenedPerS, poolpilot.MetricPoolClosedPerS, poolpilot.MetricThrashing,
}

// Options configure a Source.
type Options struct {
	Client  *http.Client    // nil: a client of its own
	Timeout time.Duration   // per poll; default DefaultTimeout
	Clock   poolpilot.Clock // nil: the system clock
	Thrash  Thrash          // zero: DefaultThrash
}

// Source polls the /healthz of each instance.
type Source struct {
	targets []target
	opts    Options

	mu    sync.Mutex
	state map[string]*instance
}

type target struct{ name, url string }

// instance is what the source remembers of an instance between polls.
type instance struct {
	firstPoll time.Time
	lastUp    time.Time // zero: never reachable
	prev      *counters
}

type counters struct {
	at                                           time.Time
	acquires, timeouts, refusals, opened, closed int64
	closedIdleLifetime                           int64
}

// New returns a source polling each URL (http or https, the full /healthz
// URL). The instance of each sample is the URL's host:port.
func New(urls []string, opts Options) (*Source, error) {
	if len(urls) == 0 {
		return nil, fmt.Errorf("health: no URL: give at least one /healthz URL")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Clock == nil {
		opts.Clock = poolpilot.SystemClock{}
	}
	if opts.Thrash == (Thrash{}) {
		opts.Thrash = DefaultThrash
	}
	s := &Source{opts: opts, state: map[string]*instance{}}
	seen := map[string]bool{}
	for _, raw := range urls {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("health URL %q: want http://host:port/healthz", raw)
		}
		if u.User != nil {
			return nil, fmt.Errorf("health URL %s: credentials in the URL are not supported", u.Redacted())
		}
		if seen[u.String()] {
			return nil, fmt.Errorf("health URL %s is given twice", u)
		}
		seen[u.String()] = true
		name := u.Host
		if seen[name] {
			name = u.String()
		}
		seen[name] = true
		s.targets = append(s.targets, target{name: name, url: u.String()})
	}
	return s, nil
}

// Name returns "health".
func (s *Source) Name() string { return Name }

// Metrics lists the metrics of the source.
func (s *Source) Metrics() []string { return append([]string(nil), metrics...) }

// Instances returns the instance names, in the order of the URLs.
func (s *Source) Instances() []string {
	out := make([]string, len(s.targets))
	for i, t := range s.targets {
		out[i] = t.name
	}
	return out
}

// Collect polls every instance concurrently.
func (s *Source) Collect(ctx context.Context) ([]poolpilot.Sample, error) {
	out := make([][]poolpilot.Sample, len(s.targets))
	var wg sync.WaitGroup
	for i, t := range s.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := s.poll(ctx, t.url)
			out[i] = s.samples(t.name, s.opts.Clock.Now(), d, err)
		}()
	}
	wg.Wait()
	var all []poolpilot.Sample
	for _, ss := range out {
		all = append(all, ss...)
	}
	return all, ctx.Err()
}

func (s *Source) poll(ctx context.Context, u string) (Document, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Document{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return Document{}, fmt.Errorf("poll failed: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return Document{}, fmt.Errorf("read body: %w", err)
	}
	if len(b) > MaxBody {
		return Document{}, fmt.Errorf("body larger than %d bytes", MaxBody)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		return Document{}, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	d, err := ParseDocument(b)
	if err != nil {
		return d, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	return d, nil
}
