package poolpilot

// The criteria vocabulary: the metric names a Sample carries and a
// criterion's expression starts with (docs/criteria.md; criteria.Vocabulary
// gives each one's unit, source and help). Every package names a metric
// through these constants. The pool metrics of the health source are named
// after their /healthz fields ("pool.max" is the document's pool.max).
const (
	// Health source (/healthz), per instance.
	MetricReachable           = "reachable"
	MetricDowntime            = "downtime_s"
	MetricErrorRate           = "error_rate"
	MetricLatencyP50          = "latency_p50_ms"
	MetricLatencyP95          = "latency_p95_ms"
	MetricLatencyP99          = "latency_p99_ms"
	MetricRequests            = "requests"
	MetricPoolMax             = "pool.max"
	MetricPoolMin             = "pool.min"
	MetricPoolTotal           = "pool.total"
	MetricPoolAcquired        = "pool.acquired"
	MetricPoolIdle            = "pool.idle"
	MetricPoolUtilization     = "pool.utilization"
	MetricPoolWaiting         = "pool.waiting"
	MetricPoolOldestWait      = "pool.oldest_wait_ms"
	MetricPoolWaitP50         = "pool.wait_p50_ms"
	MetricPoolWaitP95         = "pool.wait_p95_ms"
	MetricPoolWaitP99         = "pool.wait_p99_ms"
	MetricPoolAcquireTimeouts = "pool.acquire_timeouts"
	MetricPoolServerRefusals  = "pool.server_refusals"
	MetricPoolChurn           = "pool.churn"
	MetricPoolOpenedPerS      = "pool.opened_per_s"
	MetricPoolClosedPerS      = "pool.closed_per_s"
	MetricThrashing           = "thrashing"

	// Database host CPU (hostcpu).
	MetricDBCPU = "db.cpu"

	// PostgreSQL server (pgstat).
	MetricDBConnections         = "db.connections"
	MetricDBConnectionsActive   = "db.connections.active"
	MetricDBConnectionsIdle     = "db.connections.idle"
	MetricDBConnectionsIdleInTx = "db.connections.idle_in_transaction"
	MetricDBConnectionsByApp    = "db.connections_by_app"
	MetricDBWaitingOnLocks      = "db.waiting_on_locks"
	MetricDBCommitsPerS         = "db.commits_per_s"
	MetricDBRollbacksPerS       = "db.rollbacks_per_s"
	MetricDBDeadlocks           = "db.deadlocks"
	MetricDBMaxConnections      = "db.max_connections"
	MetricDBReservedConnections = "db.reserved_connections"
	MetricDBConnectionsFree     = "db.connections_free"

	// Integrity probe and the load generator (pushed during a run).
	MetricIntegrityOK = "integrity_ok"
	MetricViolations  = "violations"
)
