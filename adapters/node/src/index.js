// @poolpilot/pg: poolpilot's pool contract for node-postgres.
// See README.md; the types are in index.d.ts.

import { Pilot, ConflictError, HEALTH_SCHEMA } from './instrument.js';
import { measure, route, serveHealth, serveAdmin, serveMetrics, callSafely, guard, parseAdminBody } from './http.js';
import { Metrics, loadPromClient } from './metrics.js';

export { parsePoolEnv, pgOptions, validateSize, parseMillisOrDuration, PoolConfigError, DEFAULTS, ENV } from './env.js';
export { redact } from './redact.js';
export { Pilot, ConflictError, HEALTH_SCHEMA, parseAdminBody };

/** instrument measures a pg.Pool and gives it /healthz, /metrics and PUT /admin/pool. */
export function instrument(pool, options = {}) {
  const pilot = new Pilot(pool, options);
  const prom = options.promClient !== undefined ? options.promClient : loadPromClient();
  if (prom) pilot.metrics = new Metrics(pilot, prom, options.registry);
  return pilot;
}

Object.assign(Pilot.prototype, {
  /** middleware: Express-style, measures every request (not the pool's own routes). */
  middleware() {
    return (req, res, next) => {
      measure(this, req, res);
      next();
    };
  },

  /** routes: Express-style, serves /healthz, /metrics, PUT /admin/pool; next() for anything else. */
  routes() {
    return (req, res, next) => {
      if (!route(this, req, res)) next();
    };
  },

  /** express: middleware() and routes() in one. */
  express() {
    return (req, res, next) => {
      measure(this, req, res);
      if (!route(this, req, res)) next();
    };
  },

  /** wrap: a plain node:http handler with the measurement and the pool's routes. */
  wrap(handler) {
    return (req, res) => {
      measure(this, req, res);
      if (!route(this, req, res)) callSafely(this, handler, req, res);
    };
  },

  /** requireToken guards a service's own admin handler with the admin token (404/401). */
  requireToken(handler) {
    return (req, res, next) => {
      if (guard(this, req, res)) return handler(req, res, next);
    };
  },

  handleHealth(req, res) {
    return serveHealth(this, req, res);
  },
  handleAdmin(req, res) {
    return serveAdmin(this, req, res);
  },
  handleMetrics(req, res) {
    return serveMetrics(this, req, res);
  },
});
