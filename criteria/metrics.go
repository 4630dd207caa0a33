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
	{poolpilot.MetricReachable, KindBool, SourceHealth, "1 when the last /healthz poll succeeded with status ok, 0 when it failed or said unavailable"},
	{poolpilot.MetricDowntime, KindSeconds, SourceHealth, "seconds since the instance was last reachable (0 while reachable)"},
	{poolpilot.MetricErrorRate, KindRatio, SourceHealth, "errors / requests over the service's window (requests.error_rate)"},
	{poolpilot.MetricLatencyP50, KindMillis, SourceHealth, "request latency p50 over the service's window"},
	{poolpilot.MetricLatencyP95, KindMillis, SourceHealth, "request latency p95 over the service's window"},
	{poolpilot.MetricLatencyP99, KindMillis, SourceHealth, "request latency p99 over the service's window"},
	{poolpilot.MetricRequests, KindCount, SourceHealth, "requests per second over the service's window (requests.total / requests.window_seconds)"},
	{poolpilot.MetricPoolMax, KindCount, SourceHealth, "effective pool max"},
	{poolpilot.MetricPoolMin, KindCount, SourceHealth, "effective pool min"},
	{poolpilot.MetricPoolTotal, KindCount, SourceHealth, "connections open in the pool"},
	{poolpilot.MetricPoolAcquired, KindCount, SourceHealth, "connections in use"},
	{poolpilot.MetricPoolIdle, KindCount, SourceHealth, "idle connections"},
	{poolpilot.MetricPoolUtilization, KindRatio, SourceHealth, "acquired / max"},
	{poolpilot.MetricPoolWaiting, KindCount, SourceHealth, "acquires waiting for a connection"},
	{poolpilot.MetricPoolOldestWait, KindMillis, SourceHealth, "age of the oldest waiting acquire"},
	{poolpilot.MetricPoolWaitP50, KindMillis, SourceHealth, "acquire wait p50 over the pool's window"},
	{poolpilot.MetricPoolWaitP95, KindMillis, SourceHealth, "acquire wait p95 over the pool's window"},
	{poolpilot.MetricPoolWaitP99, KindMillis, SourceHealth, "acquire wait p99 over the pool's window"},
	{poolpilot.MetricPoolAcquireTimeouts, KindCount, SourceHealth, "acquire timeouts per second (increase of the counter between polls)"},
	{poolpilot.MetricPoolServerRefusals, KindCount, SourceHealth, "connections refused by the server (SQLSTATE 53300) per second"},
	{poolpilot.MetricPoolChurn, KindCount, SourceHealth, "new server connections per acquire over the pool's window"},
	{poolpilot.MetricPoolOpenedPerS, KindCount, SourceHealth, "new server connections per second between polls"},
	{poolpilot.MetricPoolClosedPerS, KindCount, SourceHealth, "closed server connections per second between polls"},
	{poolpilot.MetricThrashing, KindBool, SourceHealth, "1 when the pool is thrashing (see docs/criteria.md)"},
	{poolpilot.MetricDBCPU, KindRatio, SourceHostCPU, "CPU of the PostgreSQL server's processes, 0–1 of the host's cores"},
	{poolpilot.MetricDBConnections, KindCount, SourcePG, "client backends in pg_stat_activity"},
	{poolpilot.MetricDBConnectionsActive, KindCount, SourcePG, "client backends in state active"},
	{poolpilot.MetricDBConnectionsIdle, KindCount, SourcePG, "client backends in state idle"},
	{poolpilot.MetricDBConnectionsIdleInTx, KindCount, SourcePG, "client backends idle in transaction (aborted included)"},
	{poolpilot.MetricDBConnectionsByApp, KindCount, SourcePG, "client backends per application_name (instance = the application name)"},
	{poolpilot.MetricDBWaitingOnLocks, KindCount, SourcePG, "client backends waiting on a lock"},
	{poolpilot.MetricDBCommitsPerS, KindCount, SourcePG, "commits per second, all databases"},
	{poolpilot.MetricDBRollbacksPerS, KindCount, SourcePG, "rollbacks per second, all databases"},
	{poolpilot.MetricDBDeadlocks, KindCount, SourcePG, "deadlocks per second, all databases"},
	{poolpilot.MetricDBMaxConnections, KindCount, SourcePG, "max_connections"},
	{poolpilot.MetricDBReservedConnections, KindCount, SourcePG, "superuser_reserved_connections + reserved_connections"},
	{poolpilot.MetricDBConnectionsFree, KindCount, SourcePG, "max_connections − reserved − connections in use"},
	{poolpilot.MetricIntegrityOK, KindBool, SourceIntegrity, "1 when the integrity probe reports ok, 0 when it reports a violation"},
	{poolpilot.MetricViolations, KindCount, SourceExternal, "violations counted by the load generator (pushed with Engine.Observe)"},
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
