package criteria

import (
	"sort"
	"strings"

	"github.com/poolpilot/poolpilot"
)

// Kind is the unit of a metric, which decides the unit suffixes its
// thresholds accept.
type Kind string

const (
	KindCount   Kind = "count"   // a plain number: connections, requests per second
	KindRatio   Kind = "ratio"   // 0–1; accepts a % suffix (70% = 0.7)
	KindMillis  Kind = "ms"      // milliseconds; accepts ms, s, m, h
	KindSeconds Kind = "seconds" // seconds; accepts ms, s, m, h
	KindBool    Kind = "bool"    // 0 or 1
	KindAny     Kind = "any"     // PromQL: unitless, whatever the query returns
)

// MetricInfo describes one metric of the vocabulary.
type MetricInfo struct {
	Name   string `json:"name"`
	Kind   Kind   `json:"kind"`
	Source string `json:"source"` // health, pgstat, hostcpu, integrity, external, prom
	Help   string `json:"help"`
}

// Source names, as in MetricInfo.Source.
const (
	SourceHealth    = "health"
	SourcePG        = "pgstat"
	SourceHostCPU   = "hostcpu"
	SourceIntegrity = "integrity"
	SourceExternal  = "external"
	SourceProm      = "prom"
)

var vocabulary = []MetricInfo{
	{"reachable", KindBool, SourceHealth, "1 when the last /healthz poll succeeded with status ok, 0 when it failed or said unavailable"},
	{"downtime_s", KindSeconds, SourceHealth, "seconds since the instance was last reachable (0 while reachable)"},
	{"error_rate", KindRatio, SourceHealth, "errors / requests over the service's window (requests.error_rate)"},
	{"latency_p50_ms", KindMillis, SourceHealth, "request latency p50 over the service's window"},
	{"latency_p95_ms", KindMillis, SourceHealth, "request latency p95 over the service's window"},
	{"latency_p99_ms", KindMillis, SourceHealth, "request latency p99 over the service's window"},
	{"requests", KindCount, SourceHealth, "requests per second over the service's window (requests.total / requests.window_seconds)"},
	{"pool.max", KindCount, SourceHealth, "effective pool max"},
	{"pool.min", KindCount, SourceHealth, "effective pool min"},
	{"pool.total", KindCount, SourceHealth, "connections open in the pool"},
	{"pool.acquired", KindCount, SourceHealth, "connections in use"},
	{"pool.idle", KindCount, SourceHealth, "idle connections"},
	{"pool.utilization", KindRatio, SourceHealth, "acquired / max"},
	{"pool.waiting", KindCount, SourceHealth, "acquires waiting for a connection"},
	{"pool.oldest_wait_ms", KindMillis, SourceHealth, "age of the oldest waiting acquire"},
	{"pool.wait_p50_ms", KindMillis, SourceHealth, "acquire wait p50 over the pool's window"},
	{"pool.wait_p95_ms", KindMillis, SourceHealth, "acquire wait p95 over the pool's window"},
	{"pool.wait_p99_ms", KindMillis, SourceHealth, "acquire wait p99 over the pool's window"},
	{"pool.acquire_timeouts", KindCount, SourceHealth, "acquire timeouts per second (increase of the counter between polls)"},
	{"pool.server_refusals", KindCount, SourceHealth, "connections refused by the server (SQLSTATE 53300) per second"},
	{"pool.churn", KindCount, SourceHealth, "new server connections per acquire over the pool's window"},
	{"pool.opened_per_s", KindCount, SourceHealth, "new server connections per second between polls"},
	{"pool.closed_per_s", KindCount, SourceHealth, "closed server connections per second between polls"},
	{"thrashing", KindBool, SourceHealth, "1 when the pool is thrashing (see docs/criteria.md)"},
	{"db.cpu", KindRatio, SourceHostCPU, "CPU of the PostgreSQL server's processes, 0–1 of the host's cores"},
	{"db.connections", KindCount, SourcePG, "client backends in pg_stat_activity"},
	{"db.connections.active", KindCount, SourcePG, "client backends in state active"},
	{"db.connections.idle", KindCount, SourcePG, "client backends in state idle"},
	{"db.connections.idle_in_transaction", KindCount, SourcePG, "client backends idle in transaction (aborted included)"},
	{"db.connections_by_app", KindCount, SourcePG, "client backends per application_name (instance = the application name)"},
	{"db.waiting_on_locks", KindCount, SourcePG, "client backends waiting on a lock"},
	{"db.commits_per_s", KindCount, SourcePG, "commits per second, all databases"},
	{"db.rollbacks_per_s", KindCount, SourcePG, "rollbacks per second, all databases"},
	{"db.deadlocks", KindCount, SourcePG, "deadlocks per second, all databases"},
	{"db.max_connections", KindCount, SourcePG, "max_connections"},
	{"db.reserved_connections", KindCount, SourcePG, "superuser_reserved_connections + reserved_connections"},
	{"db.connections_free", KindCount, SourcePG, "max_connections − reserved − connections in use"},
	{"integrity_ok", KindBool, SourceIntegrity, "1 when the integrity probe reports ok, 0 when it reports a violation"},
	{"violations", KindCount, SourceExternal, "violations counted by the load generator (pushed with Engine.Observe)"},
	{poolpilot.MetricPromQL, KindAny, SourceProm, "the value of the criterion's PromQL query"},
}

// LookupMetric returns the vocabulary entry of name.
func LookupMetric(name string) (MetricInfo, bool) {
	for _, m := range vocabulary {
		if m.Name == name {
			return m, true
		}
	}
	return MetricInfo{}, false
}

// Vocabulary returns every known metric, sorted by name.
func Vocabulary() []MetricInfo {
	out := append([]MetricInfo(nil), vocabulary...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func metricNames() string {
	var names []string
	for _, m := range Vocabulary() {
		names = append(names, m.Name)
	}
	return strings.Join(names, ", ")
}
