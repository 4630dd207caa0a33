package integrity

import (
	"context"
	"encoding/json"
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
const Name = "integrity"

// Options configure a Source.
type Options struct {
	Client  *http.Client    // nil: a client of its own
	Timeout time.Duration   // per probe; default 5s (an integrity check scans tables)
	Clock   poolpilot.Clock // nil: the system clock
}

// Source polls integrity probes.
type Source struct {
	targets []target
	opts    Options
}

type target struct{ name, url string }

// New returns a source probing each URL; the instance is the URL's
// host:port.
func New(urls []string, opts Options) (*Source, error) {
	if len(urls) == 0 {
		return nil, fmt.Errorf("integrity: no URL: give at least one probe URL such as http://host:port/v1/integrity")
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = poolpilot.SystemClock{}
	}
	s := &Source{opts: opts}
	seen := map[string]bool{}
	for _, raw := range urls {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("integrity URL %q: want http://host:port/path without credentials", raw)
		}
		name := u.Host
		if seen[name] {
			name = u.String()
		}
		seen[name] = true
		s.targets = append(s.targets, target{name, u.String()})
	}
	return s, nil
}

// Name returns "integrity".
func (s *Source) Name() string { return Name }

// Metrics lists "integrity_ok".
func (s *Source) Metrics() []string { return []string{poolpilot.MetricIntegrityOK} }

// Collect probes every URL concurrently.
func (s *Source) Collect(ctx context.Context) ([]poolpilot.Sample, error) {
	out := make([]poolpilot.Sample, len(s.targets))
	var wg sync.WaitGroup
	for i, t := range s.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.probe(ctx, t.url)
			smp := poolpilot.Sample{Metric: poolpilot.MetricIntegrityOK, Instance: t.name, Time: s.opts.Clock.Now(), Source: Name}
			if err != nil {
				smp.Gap, smp.Reason = true, err.Error()
			} else if ok {
				smp.Value = 1
			}
			out[i] = smp
		}()
	}
	wg.Wait()
	return out, ctx.Err()
}

func (s *Source) probe(ctx context.Context, u string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return false, fmt.Errorf("probe failed: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return false, fmt.Errorf("read answer: %w", err)
	}
	return ParseAnswer(resp.StatusCode, b)
}

// ParseAnswer reads the boolean "ok" of a probe's answer.
func ParseAnswer(code int, b []byte) (bool, error) {
	var a struct {
		OK *bool `json:"ok"`
	}
	if err := json.Unmarshal(b, &a); err != nil || a.OK == nil {
		return false, fmt.Errorf("HTTP %d: the answer has no boolean \"ok\"", code)
	}
	return *a.OK, nil
}
