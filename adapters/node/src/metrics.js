// GET /metrics through prom-client (an optional peer dependency), on a
// registry of its own, with the metric names of poolpilot's Go reference.
// The pool's values are read from one stats snapshot per scrape.

import { createRequire } from 'node:module';

const GAUGES = [
  ['poolpilot_pool_max_connections', 'Largest number of connections the pool may open.', (s) => s.max],
  ['poolpilot_pool_min_connections', 'Connections the pool keeps open.', (s) => s.min],
  ['poolpilot_pool_connections', 'Connections open now (acquired, idle and constructing).', (s) => s.total],
  ['poolpilot_pool_acquired_connections', 'Connections in use.', (s) => s.acquired],
  ['poolpilot_pool_idle_connections', 'Idle connections.', (s) => s.idle],
  ['poolpilot_pool_constructing_connections', 'Connections being established.', (s) => s.constructing],
  ['poolpilot_pool_waiting_callers', 'Callers waiting to acquire a connection.', (s) => s.waiting],
  ['poolpilot_pool_oldest_wait_seconds', 'Age of the oldest waiting acquire.', (s) => s.oldest_wait_ms / 1000],
  ['poolpilot_pool_utilization_ratio', 'Acquired connections / max.', (s) => s.utilization],
  ['poolpilot_pool_acquire_wait_p50_seconds', 'Median acquire wait over the window.', (s) => s.wait_p50_ms / 1000],
  ['poolpilot_pool_acquire_wait_p95_seconds', '95th percentile of the acquire wait over the window.', (s) => s.wait_p95_ms / 1000],
  ['poolpilot_pool_acquire_wait_p99_seconds', '99th percentile of the acquire wait over the window.', (s) => s.wait_p99_ms / 1000],
  ['poolpilot_pool_acquire_queue_p95_seconds', '95th percentile of the time queued behind a full pool.', (s) => s.queue_p95_ms / 1000],
  ['poolpilot_pool_acquire_dial_p95_seconds', '95th percentile of the acquire wait that opened a connection.', (s) => s.dial_p95_ms / 1000],
  ['poolpilot_pool_churn_ratio', 'New connections per acquire over the window.', (s) => s.churn],
  ['poolpilot_pool_stats_window_seconds', 'Window of the pool statistics.', (s) => s.window_seconds],
  ['poolpilot_pool_idle_timeout_seconds', 'Idle timeout.', (s) => s.idle_timeout_ms / 1000],
  ['poolpilot_pool_connection_timeout_seconds', 'Connection timeout.', (s) => s.connection_timeout_ms / 1000],
  ['poolpilot_pool_max_lifetime_seconds', 'Maximum connection lifetime (0: none).', (s) => s.max_lifetime_ms / 1000],
];

const COUNTERS = [
  ['poolpilot_pool_acquires_total', 'Successful acquires.', (s) => s.acquires],
  ['poolpilot_pool_acquire_timeouts_total', 'Acquires that timed out.', (s) => s.acquire_timeouts],
  ['poolpilot_pool_acquire_cancels_total', 'Acquires cancelled by the caller.', (s) => s.acquire_cancels],
  ['poolpilot_pool_server_refusals_total', 'New connections refused by the server (SQLSTATE 53300).', (s) => s.server_refusals],
  ['poolpilot_pool_connections_opened_total', 'Connections opened.', (s) => s.opened],
  ['poolpilot_pool_resizes_total', 'Live resizes.', (s) => s.resizes],
];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE'];

/** loadPromClient returns prom-client, or null when it is not installed. */
export function loadPromClient() {
  try {
    return createRequire(import.meta.url)('prom-client');
  } catch {
    return null;
  }
}

export class Metrics {
  constructor(pilot, prom, registry) {
    this.pilot = pilot;
    this.registry = registry || new prom.Registry();
    this.snap = null;
    const reg = [this.registry];
    const self = this;
    for (const [name, help, get] of GAUGES) {
      new prom.Gauge({ name, help, registers: reg, collect() { this.set(get(self.snap)); } });
    }
    for (const [name, help, get] of COUNTERS) {
      new prom.Counter({ name, help, registers: reg, collect() { this.reset(); this.inc(get(self.snap)); } });
    }
    new prom.Counter({
      name: 'poolpilot_pool_connections_closed_total',
      help: 'Connections closed, by reason.',
      labelNames: ['reason'],
      registers: reg,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(self.snap.closed_by_reason || {})) this.inc({ reason }, n);
      },
    });
    new prom.Gauge({ name: 'poolpilot_pool_info', help: 'Pool facts as labels; always 1.', labelNames: ['pooler', 'query_mode'], registers: reg,
      collect() { this.reset(); this.set({ pooler: self.snap.pooler || '', query_mode: '' }, 1); } });
    this.budgetGauges(prom, reg);
    this.requests = new prom.Counter({ name: 'http_requests_total', help: 'HTTP requests answered.', labelNames: ['code', 'method'], registers: reg });
    this.durations = new prom.Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency.',
      labelNames: ['code', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: reg,
    });
  }

  budgetGauges(prom, reg) {
    const self = this;
    const b = [
      ['poolpilot_pool_server_max_connections', 'The server\'s max_connections.', (x) => x.max_connections],
      ['poolpilot_pool_server_available_connections', 'Connections the server can still give this pool.', (x) => x.available],
      ['poolpilot_pool_budget_ok', '1 when max fits the server\'s budget.', (x) => (x.ok ? 1 : 0)],
    ];
    for (const [name, help, get] of b) {
      new prom.Gauge({ name, help, registers: reg, collect() {
        this.reset();
        if (self.budget) this.set(get(self.budget));
      } });
    }
  }

  observeRequest(method, code, seconds) {
    const labels = { code: String(code), method: METHODS.includes(method) ? method : 'OTHER' };
    this.requests.inc(labels);
    this.durations.observe(labels, seconds);
  }

  async render() {
    this.snap = this.pilot.stats();
    this.budget = this.pilot.budget();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
