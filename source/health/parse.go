package health

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"

	"github.com/poolpilot/poolpilot"
)

// MaxBody is the largest /healthz body read.
const MaxBody = 1 << 20

// Document is a parsed health document with the names of the fields it
// carries, so that a field the service does not send is told apart from a
// field that is 0.
type Document struct {
	poolpilot.Health
	// Fields holds the dotted names of the fields present and not null:
	// "schema", "status", "pool", "pool.max", "requests.error_rate", …
	Fields map[string]bool
	// Schema is the document's contract version; "1.0" when it has none.
	Schema string
}

// Has reports whether the document carries field (a dotted name).
func (d Document) Has(field string) bool { return d.Fields[field] }

// ParseHealth parses a /healthz document strictly enough that a body which
// is not one (an HTML error page, a JSON error object, a truncated
// document) is refused: it must be one JSON object, with status "ok" or
// "unavailable", a pool object with max ≥ 1 and 0 ≤ min ≤ max, no negative
// figure, an error rate within 0–1, and a schema of major version 1 (or
// none, read as 1.0). Unknown fields are allowed, so that a newer service
// can add some.
func ParseHealth(b []byte) (poolpilot.Health, error) {
	d, err := ParseDocument(b)
	return d.Health, err
}

// ParseDocument is ParseHealth keeping the names of the fields present.
func ParseDocument(b []byte) (Document, error) {
	var d Document
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return d, fmt.Errorf("not a JSON object: %w", err)
	}
	for _, k := range []string{"status", "pool"} {
		if raw, ok := keys[k]; !ok || string(raw) == "null" {
			return d, fmt.Errorf("no %q field: not a health document", k)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d.Health); err != nil {
		return d, fmt.Errorf("health document: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return d, errors.New("health document: data after the JSON object")
	}
	d.Fields = fieldNames(keys)
	d.Schema = d.Health.Schema
	if !d.Has("schema") {
		d.Schema = "1.0"
	}
	if err := checkSchema(d.Schema); err != nil {
		return d, err
	}
	return d, check(d.Health)
}

// fieldNames lists the non-null top-level keys and the non-null keys of
// the top-level objects, as dotted names.
func fieldNames(keys map[string]json.RawMessage) map[string]bool {
	out := map[string]bool{}
	for k, raw := range keys {
		if string(raw) == "null" {
			continue
		}
		out[k] = true
		var inner map[string]json.RawMessage
		if len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &inner) == nil {
			for ik, iraw := range inner {
				if string(iraw) != "null" {
					out[k+"."+ik] = true
				}
			}
		}
	}
	return out
}

var schemaRE = regexp.MustCompile(`^([0-9]+)\.([0-9]+)$`)

// SchemaMajor is the major version of the health-document contract this
// package reads.
const SchemaMajor = 1

// checkSchema refuses a schema version that is not MAJOR.MINOR or whose
// major version is not SchemaMajor.
func checkSchema(v string) error {
	m := schemaRE.FindStringSubmatch(v)
	if m == nil {
		return fmt.Errorf("health document schema %q: want a version MAJOR.MINOR such as %q", v, poolpilot.HealthSchema)
	}
	if major, err := strconv.Atoi(m[1]); err != nil || major != SchemaMajor {
		return fmt.Errorf("health document schema %s: this poolpilot reads %d.x", v, SchemaMajor)
	}
	return nil
}

func check(h poolpilot.Health) error {
	if h.Status != "ok" && h.Status != "unavailable" {
		return fmt.Errorf("status %q: want ok or unavailable", h.Status)
	}
	p := h.Pool
	if p.Max < 1 || p.Min < 0 || p.Min > p.Max {
		return fmt.Errorf("pool max %d, min %d: want max ≥ 1 and 0 ≤ min ≤ max", p.Max, p.Min)
	}
	nums := map[string]float64{
		poolpilot.MetricPoolTotal: float64(p.Total), poolpilot.MetricPoolAcquired: float64(p.Acquired), poolpilot.MetricPoolIdle: float64(p.Idle),
		poolpilot.MetricPoolWaiting: float64(p.Waiting), poolpilot.MetricPoolUtilization: p.Utilization, poolpilot.MetricPoolOldestWait: p.OldestWaitMS,
		poolpilot.MetricPoolWaitP50: p.WaitP50MS, poolpilot.MetricPoolWaitP95: p.WaitP95MS, poolpilot.MetricPoolWaitP99: p.WaitP99MS,
		"pool.acquires": float64(p.Acquires), poolpilot.MetricPoolAcquireTimeouts: float64(p.AcquireTimeouts),
		poolpilot.MetricPoolServerRefusals: float64(p.ServerRefusals), "pool.opened": float64(p.Opened),
		"pool.closed": float64(p.Closed), poolpilot.MetricPoolChurn: p.Churn,
	}
	if r := h.Requests; r != nil {
		nums["requests.total"] = float64(r.Total)
		nums["requests.errors"] = float64(r.Errors)
		nums["requests.latency_p50_ms"] = r.LatencyP50MS
		nums["requests.latency_p95_ms"] = r.LatencyP95MS
		nums["requests.latency_p99_ms"] = r.LatencyP99MS
		nums["requests.window_seconds"] = r.WindowSeconds
		if r.ErrorRate < 0 || r.ErrorRate > 1 {
			return fmt.Errorf("requests.error_rate %v: want 0–1", r.ErrorRate)
		}
	}
	for k, v := range p.ClosedByReason {
		nums["pool.closed_by_reason."+k] = float64(v)
	}
	for name, v := range nums {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s is %v: must be a non-negative number", name, v)
		}
	}
	return nil
}
