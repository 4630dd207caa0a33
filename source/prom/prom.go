package prom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/poolpilot/poolpilot"
)

// Name is the source's name.
const Name = "prom"

// ErrEmpty is the error of a query that no series matched: Prometheus
// answered, but has no data for it (yet).
var ErrEmpty = errors.New("empty result: no series matched")

// Options configure a Source.
type Options struct {
	Client  *http.Client    // nil: a client of its own (with CAFile's roots)
	Timeout time.Duration   // per query; default 2s (also sent as the query timeout)
	Clock   poolpilot.Clock // nil: the system clock
	// Auth is sent with every query; its values never appear in errors.
	Auth Auth
	// CAFile is a PEM bundle the client trusts for an https URL (instead of
	// the system's roots). Only with Client nil.
	CAFile string
}

// Source runs instant queries.
type Source struct {
	base    *url.URL
	queries []string
	opts    Options

	mu   sync.Mutex
	seen map[string][]string // instances of each query's last answer
}

// New returns a source querying the Prometheus server at baseURL (e.g.
// http://127.0.0.1:9090) for each query.
func New(baseURL string, queries []string, opts Options) (*Source, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus URL %q: want http://host:port", baseURL)
	}
	for _, q := range queries {
		if strings.TrimSpace(q) == "" {
			return nil, errors.New("prometheus: empty query")
		}
	}
	if err := opts.Auth.validate(); err != nil {
		return nil, err
	}
	if opts.CAFile != "" && opts.Client != nil {
		return nil, errors.New("prometheus: give Options.CAFile or Options.Client, not both")
	}
	if opts.Client == nil {
		c, err := newClient(opts.CAFile)
		if err != nil {
			return nil, err
		}
		opts.Client = c
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = poolpilot.SystemClock{}
	}
	return &Source{base: u, queries: dedup(queries), opts: opts, seen: map[string][]string{}}, nil
}

func dedup(qs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, q := range qs {
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	return out
}

// Name returns "prom".
func (s *Source) Name() string { return Name }

// Metrics returns PromQLMetric(q) for each query.
func (s *Source) Metrics() []string {
	out := make([]string, len(s.queries))
	for i, q := range s.queries {
		out[i] = poolpilot.PromQLMetric(q)
	}
	return out
}

// Collect runs every query concurrently.
func (s *Source) Collect(ctx context.Context) ([]poolpilot.Sample, error) {
	res := make([][]poolpilot.Sample, len(s.queries))
	var wg sync.WaitGroup
	for i, q := range s.queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = s.collectOne(ctx, q)
		}()
	}
	wg.Wait()
	var out []poolpilot.Sample
	for _, r := range res {
		out = append(out, r...)
	}
	return out, ctx.Err()
}

func (s *Source) collectOne(ctx context.Context, q string) []poolpilot.Sample {
	vals, err := s.Query(ctx, q)
	now := s.opts.Clock.Now()
	metric := poolpilot.PromQLMetric(q)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []poolpilot.Sample
	if err != nil {
		insts := s.seen[q]
		if len(insts) == 0 {
			insts = []string{""}
		}
		for _, in := range insts {
			out = append(out, poolpilot.Sample{Metric: metric, Instance: in, Time: now, Gap: true, Reason: err.Error(), Source: Name})
		}
		return out
	}
	insts := make([]string, 0, len(vals))
	for _, v := range vals {
		smp := poolpilot.Sample{Metric: metric, Instance: v.Instance, Time: now, Value: v.Value, Source: Name}
		if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
			smp.Gap, smp.Value, smp.Reason = true, 0, fmt.Sprintf("value %v is not a finite number", v.Value)
		}
		out = append(out, smp)
		insts = append(insts, v.Instance)
	}
	s.seen[q] = insts
	return out
}

// Queries returns the source's queries, deduplicated.
func (s *Source) Queries() []string { return append([]string(nil), s.queries...) }

// Value is one series of an instant query's answer.
type Value struct {
	Instance string
	Labels   map[string]string
	Value    float64
}

// Query runs one instant query. The answer must be a non-empty instant
// vector or a scalar, without warnings.
func (s *Source) Query(ctx context.Context, q string) ([]Value, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	form := url.Values{"query": {q}, "timeout": {s.opts.Timeout.String()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base.String()+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.opts.Auth.apply(req)
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query failed: %w", s.opts.Auth.redactErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return nil, fmt.Errorf("query failed: HTTP %d: Prometheus refused the credentials (%s)", resp.StatusCode, s.opts.Auth.describe())
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	return ParseAnswer(resp.StatusCode, b)
}

type answer struct {
	Status    string   `json:"status"`
	ErrorType string   `json:"errorType"`
	Error     string   `json:"error"`
	Warnings  []string `json:"warnings"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// ParseAnswer parses an /api/v1/query answer.
func ParseAnswer(code int, b []byte) ([]Value, error) {
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("HTTP %d: not a Prometheus answer: %w", code, err)
	}
	if a.Status != "success" {
		return nil, fmt.Errorf("HTTP %d: %s: %s", code, a.ErrorType, a.Error)
	}
	if len(a.Warnings) > 0 {
		return nil, fmt.Errorf("partial answer: %s", strings.Join(a.Warnings, "; "))
	}
	switch a.Data.ResultType {
	case "scalar":
		var pair [2]json.RawMessage
		if err := json.Unmarshal(a.Data.Result, &pair); err != nil {
			return nil, fmt.Errorf("scalar: %w", err)
		}
		v, err := parseValue(pair[1])
		if err != nil {
			return nil, err
		}
		return []Value{{Value: v}}, nil
	case "vector":
		return parseVector(a.Data.Result)
	default:
		return nil, fmt.Errorf("result type %q: want an instant vector or a scalar", a.Data.ResultType)
	}
}

func parseVector(raw json.RawMessage) ([]Value, error) {
	var series []struct {
		Metric map[string]string  `json:"metric"`
		Value  [2]json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &series); err != nil {
		return nil, fmt.Errorf("vector: %w", err)
	}
	if len(series) == 0 {
		return nil, ErrEmpty
	}
	out := make([]Value, 0, len(series))
	byInst := map[string]int{}
	for _, s := range series {
		v, err := parseValue(s.Value[1])
		if err != nil {
			return nil, err
		}
		out = append(out, Value{Instance: s.Metric["instance"], Labels: s.Metric, Value: v})
		byInst[s.Metric["instance"]]++
	}
	for i := range out { // instance labels that do not tell series apart: use the label set
		if byInst[out[i].Instance] > 1 {
			out[i].Instance = labelString(out[i].Labels)
		}
	}
	return out, nil
}

func parseValue(raw json.RawMessage) (float64, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("sample value: %w", err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("sample value %q: %w", s, err)
	}
	return v, nil
}

func labelString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(l[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}
