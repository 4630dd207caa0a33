package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
	"github.com/poolpilot/poolpilot/criteria"
	"github.com/poolpilot/poolpilot/source/health"
)

// Defaults.
const (
	DefaultPolls         = 6
	DefaultInterval      = 500 * time.Millisecond
	DefaultLoad          = 4
	DefaultTimeout       = 5 * time.Second
	DefaultResizeTimeout = 10 * time.Second
)

// ErrUnreachable marks a service the probe could not read at all.
var ErrUnreachable = errors.New("unreachable")

// Options configure a probe.
type Options struct {
	URL      string // the health document's URL (http://host:port/healthz)
	AdminURL string // the admin base URL, or the PUT /admin/pool URL itself; "" skips the resize check
	Token    string // bearer token for AdminURL
	// LoadURL is an extra URL the load GETs (one that uses the database);
	// the service's origin and URL are always loaded.
	LoadURL       string
	Polls         int           // documents fetched; default DefaultPolls (at least 2)
	Interval      time.Duration // between polls; default DefaultInterval
	Load          int           // concurrent GETs per URL per poll; default DefaultLoad (0 < n ≤ 32)
	Timeout       time.Duration // per request; default DefaultTimeout
	ResizeTimeout time.Duration // for the document to follow a resize; default DefaultResizeTimeout
	// Criteria are the criteria to tell feeds for; nil: the default plan's
	// (criteria.SeedDefaults).
	Criteria []poolpilot.CriterionSpec
	Client   *http.Client
	// Backends, when set, counts the service's backends in
	// pg_stat_activity by application_name (AppName; "": the document's
	// service name).
	Backends BackendCounter
	AppName  string
}

// Check statuses.
const (
	Pass = "pass"
	Fail = "fail"
	Warn = "warn"
	Skip = "skip"
)

// Check is one item of the probe.
type Check struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// Report is the outcome of a probe.
type Report struct {
	URL        string        `json:"url"`
	Conformant bool          `json:"conformant"`
	Schema     string        `json:"schema,omitempty"`
	Polls      int           `json:"polls"`
	Checks     []Check       `json:"checks"`
	Problems   []string      `json:"problems"`
	Warnings   []string      `json:"warnings,omitempty"`
	Criteria   []health.Feed `json:"criteria"`
}

func (r *Report) add(c Check) {
	r.Checks = append(r.Checks, c)
	switch c.Status {
	case Fail:
		r.Problems = append(r.Problems, c.ID+": "+c.Detail)
	case Warn:
		r.Warnings = append(r.Warnings, c.ID+": "+c.Detail)
	}
}

// poll is one fetched document.
type poll struct {
	code int
	body []byte
	doc  health.Document
	err  error // parse error
}

func (o *Options) defaults() error {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("URL %q: want http://host:port/healthz", o.URL)
	}
	if o.AdminURL != "" {
		a, err := url.Parse(o.AdminURL)
		if err != nil || (a.Scheme != "http" && a.Scheme != "https") || a.Host == "" {
			return fmt.Errorf("--admin-url %q: want http://host:port (or the endpoint itself, http://host:port/admin/pool)", o.AdminURL)
		}
		// A base URL, as the plan's admin_url and size --admin-url take it:
		// the endpoint is {base}/admin/pool.
		if !strings.HasSuffix(strings.TrimSuffix(a.Path, "/"), "/admin/pool") {
			a.Path = strings.TrimSuffix(a.Path, "/") + "/admin/pool"
			o.AdminURL = a.String()
		}
		if o.Token == "" {
			return errors.New("--admin-url needs a bearer token (--token-env names the variable that holds it)")
		}
	}
	if o.Polls == 0 {
		o.Polls = DefaultPolls
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Load == 0 {
		o.Load = DefaultLoad
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ResizeTimeout == 0 {
		o.ResizeTimeout = DefaultResizeTimeout
	}
	if o.Polls < 2 || o.Polls > 100 || o.Load < 0 || o.Load > 32 || o.Interval < 0 {
		return fmt.Errorf("polls %d (2–100), load %d (0–32), interval %s: out of range", o.Polls, o.Load, o.Interval)
	}
	if o.Criteria == nil {
		o.Criteria = criteria.SeedDefaults(criteria.SeedTargets{})
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	return nil
}

// Run probes the service. The error is non-nil only for bad options or a
// service that could not be read at all (wrapping ErrUnreachable); a
// service that answers but breaks the contract gives a Report with
// Conformant false and every problem named.
func Run(ctx context.Context, o Options) (Report, error) {
	if err := o.defaults(); err != nil {
		return Report{}, err
	}
	r := Report{URL: o.URL}
	first, err := fetch(ctx, o.Client, o.URL)
	if err != nil {
		return r, fmt.Errorf("GET %s: %w: %v", o.URL, ErrUnreachable, err)
	}
	polls := []poll{first}
	for len(polls) < o.Polls {
		sendLoad(ctx, o)
		if err := sleep(ctx, o.Interval); err != nil {
			return r, err
		}
		p, err := fetch(ctx, o.Client, o.URL)
		if err != nil {
			return r, fmt.Errorf("GET %s (poll %d): %w: %v", o.URL, len(polls)+1, ErrUnreachable, err)
		}
		polls = append(polls, p)
	}
	r.Polls = len(polls)
	last := polls[len(polls)-1]
	r.Schema = last.doc.Schema
	r.add(statusCheck(polls))
	r.add(schemaCheck(polls))
	r.add(versionCheck(polls))
	r.add(invariantCheck(polls))
	r.add(movementCheck(polls, o.Load > 0, o.Load > 0 && o.LoadURL != ""))
	if o.AdminURL == "" {
		r.add(Check{ID: "resize", Status: Skip, Detail: "not checked: give --admin-url and --token-env to resize the pool up and back"})
	} else if last.err != nil {
		r.add(Check{ID: "resize", Status: Fail, Detail: "not tried: the health document does not parse"})
	} else {
		r.add(resizeCheck(ctx, o, last.doc))
	}
	if last.err == nil {
		r.add(processCheck(ctx, o, last.doc))
	}
	r.Criteria = health.Feeds(o.Criteria, []health.InstanceDoc{instanceDoc(o.URL, last)})
	r.add(feedCheck(r.Criteria))
	r.Conformant = len(r.Problems) == 0
	return r, nil
}

func instanceDoc(u string, p poll) health.InstanceDoc {
	name := u
	if pu, err := url.Parse(u); err == nil {
		name = pu.Host
	}
	return health.InstanceDoc{Instance: name, Doc: p.doc, Err: p.err}
}

// fetch GETs the health URL; an error means no HTTP answer.
func fetch(ctx context.Context, c *http.Client, u string) (poll, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return poll{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return poll{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, health.MaxBody+1))
	if err != nil {
		return poll{}, fmt.Errorf("read body: %w", err)
	}
	// Any other status is an answer too: the service is reachable but does
	// not serve the contract there, which statusCheck names (exit 3, not
	// "unreachable").
	p := poll{code: resp.StatusCode, body: b}
	p.doc, p.err = health.ParseDocument(b)
	return p, nil
}

// sendLoad sends o.Load concurrent GETs to each of the service's origin,
// its health URL and LoadURL, and waits for them; answers are not judged.
func sendLoad(ctx context.Context, o Options) {
	targets := []string{o.URL}
	if u, err := url.Parse(o.URL); err == nil {
		targets = append(targets, u.Scheme+"://"+u.Host+"/")
	}
	if o.LoadURL != "" {
		targets = append(targets, o.LoadURL)
	}
	var wg sync.WaitGroup
	for _, t := range targets {
		for range o.Load {
			wg.Go(func() {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, t, nil)
				if err != nil {
					return
				}
				if resp, err := o.Client.Do(req); err == nil {
					io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
					resp.Body.Close()
				}
			})
		}
	}
	wg.Wait()
}

func sleep(ctx context.Context, d time.Duration) error { return poolpilot.Sleep(ctx, d) }
