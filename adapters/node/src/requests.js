// The service's own requests over a sliding window: count, 5xx errors and
// latency percentiles — the "requests" object of /healthz.

import { Window, quantile } from './window.js';

export class Requests {
  constructor(windowMs, now) {
    this.windowMs = windowMs;
    this.win = new Window(windowMs, ['latency'], now);
  }

  /** record counts one answered request; 5xx answers are errors. */
  record(status, ms) {
    this.win.record('latency', ms * 1000);
    if (status >= 500) this.win.count('errors');
  }

  stats() {
    const ws = this.win.read();
    const total = ws.latency.total;
    const errors = ws.counters.errors || 0;
    return {
      total,
      errors,
      error_rate: total > 0 ? errors / total : 0,
      latency_p50_ms: quantile(ws.latency, 0.5),
      latency_p95_ms: quantile(ws.latency, 0.95),
      latency_p99_ms: quantile(ws.latency, 0.99),
      window_seconds: this.windowMs / 1000,
    };
  }
}

