// Package source defines Source, the one small interface behind which every
// metric source of the criteria engine sits, and CollectAll, which polls
// several sources at once. The sources themselves live in the
// sub-packages: health (/healthz of each service instance), pgstat
// (PostgreSQL statistics), hostcpu (CPU of a PostgreSQL on this host, from
// /proc), prom (PromQL instant queries against a Prometheus server) and
// integrity (an integrity probe such as ledgerd's /v1/integrity).
//
// A source never reports a failed observation as a zero: it returns a
// Sample with Gap set, which the engine treats as missing data.
package source
