package poolpilot

import (
	"context"
	"time"
)

// Provenance says where an effective configuration value came from.
type Provenance string

const (
	FromEnv     Provenance = "env"
	FromDefault Provenance = "default"
	FromAdmin   Provenance = "admin" // changed at run time through a live resize
)

// PoolConfig is the effective configuration of a connection pool.
// Durations are kept as time.Duration; the JSON form (PoolConfigJSON) uses
// milliseconds as the seed's environment variables do.
type PoolConfig struct {
	Max               int
	Min               int
	IdleTimeout       time.Duration
	ConnectTimeout    time.Duration
	MaxLifetime       time.Duration
	HealthCheckPeriod time.Duration
	// Pooler is "" for a direct connection, or "transaction" when the
	// DATABASE_URL points at a pooler in transaction mode.
	Pooler string
	// Source maps each setting's JSON name (max, min, idle_timeout_ms, …) to
	// where its value came from.
	Source map[string]Provenance
}

// PoolStats is a cheap snapshot of a pool's live state, in the shape of the
// "pool" object of /healthz. Times are milliseconds.
type PoolStats struct {
	Max                 int                   `json:"max"`
	Min                 int                   `json:"min"`
	IdleTimeoutMS       int64                 `json:"idle_timeout_ms"`
	ConnectionTimeoutMS int64                 `json:"connection_timeout_ms"`
	MaxLifetimeMS       int64                 `json:"max_lifetime_ms"`
	HealthCheckPeriodMS int64                 `json:"health_check_period_ms"`
	Pooler              string                `json:"pooler,omitempty"`
	QueryMode           string                `json:"query_mode,omitempty"`
	Source              map[string]Provenance `json:"source"`

	Total        int     `json:"total"`
	Acquired     int     `json:"acquired"`
	Idle         int     `json:"idle"`
	Constructing int     `json:"constructing"`
	Waiting      int     `json:"waiting"`
	OldestWaitMS float64 `json:"oldest_wait_ms"`
	Utilization  float64 `json:"utilization"`

	WaitP50MS float64 `json:"wait_p50_ms"`
	WaitP95MS float64 `json:"wait_p95_ms"`
	WaitP99MS float64 `json:"wait_p99_ms"`
	// Queue and dial split the acquire wait: time spent queued behind a full
	// pool versus time spent establishing a new connection.
	QueueP95MS float64 `json:"queue_p95_ms"`
	DialP95MS  float64 `json:"dial_p95_ms"`

	Acquires        int64            `json:"acquires"`
	AcquireTimeouts int64            `json:"acquire_timeouts"`
	AcquireCancels  int64            `json:"acquire_cancels"`
	ServerRefusals  int64            `json:"server_refusals"`
	Opened          int64            `json:"opened"`
	Closed          int64            `json:"closed"`
	ClosedByReason  map[string]int64 `json:"closed_by_reason,omitempty"`
	// Churn is new server connections per acquire over the window.
	Churn         float64 `json:"churn"`
	WindowSeconds float64 `json:"window_seconds"`
	Resizes       int64   `json:"resizes"`
}

// Budget compares what a pool may open with what the server can serve.
type Budget struct {
	MaxConnections      int    `json:"max_connections"`
	SuperuserReserved   int    `json:"superuser_reserved_connections"`
	ReservedConnections int    `json:"reserved_connections"`
	OtherConnections    int    `json:"other_connections"`
	Available           int    `json:"available"`
	PoolMax             int    `json:"pool_max"`
	OK                  bool   `json:"ok"`
	Message             string `json:"message,omitempty"`
}

// RequestStats summarises the HTTP requests a service served over a window.
type RequestStats struct {
	Total         int64   `json:"total"`
	Errors        int64   `json:"errors"`
	ErrorRate     float64 `json:"error_rate"`
	LatencyP50MS  float64 `json:"latency_p50_ms"`
	LatencyP95MS  float64 `json:"latency_p95_ms"`
	LatencyP99MS  float64 `json:"latency_p99_ms"`
	WindowSeconds float64 `json:"window_seconds"`
}

// Health is the document served at /healthz.
// HealthSchema is the version of the health-document contract this module
// writes (contract/health.schema.json).
const HealthSchema = "1.0"

type Health struct {
	// Schema is the contract version of the document, "MAJOR.MINOR"
	// (HealthSchema); readers accept major 1, and read an absent one as 1.0.
	Schema   string        `json:"schema,omitempty"`
	Status   string        `json:"status"` // "ok" or "unavailable"
	Error    string        `json:"error,omitempty"`
	Service  string        `json:"service,omitempty"`
	Time     time.Time     `json:"time"`
	Pool     PoolStats     `json:"pool"`
	Requests *RequestStats `json:"requests,omitempty"`
	Budget   *Budget       `json:"budget,omitempty"`
}

// Pool is what the HTTP surface needs from an instrumented pool.
type Pool interface {
	Config() PoolConfig
	Stats() PoolStats
	Budget() *Budget
	Ping(ctx context.Context) error
	Resize(ctx context.Context, max, min int) error
}
