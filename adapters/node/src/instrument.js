// instrument(pool, options): measures a node-postgres pg.Pool (or Neon's
// Pool, the same code) and resizes it live. It wraps pool.connect (which
// pool.query uses too) and listens to the pool's events; it relies on
// pg-pool 3.x internals (_clients, _idle, _expired, _remove, _pulseQueue,
// newClient) and checks they are there.

import { performance } from 'node:perf_hooks';
import { parsePoolEnv, pgOptions, validateSize, KEYS, PoolConfigError } from './env.js';
import { redact, secretsOf } from './redact.js';
import { Window, quantile, round3 } from './window.js';
import { PingCache, Monitor, withTimeout, readLimits, budgetOf } from './ping.js';
import { Requests } from './requests.js';

export const HEALTH_SCHEMA = '1.0';

/** ConflictError: the pool cannot be resized now (it has ended). */
export class ConflictError extends Error {
  constructor(msg) {
    super(msg);
    this.name = 'ConflictError';
  }
}

const INTERNALS = ['_clients', '_idle', '_expired', '_remove', '_pulseQueue', 'newClient', 'options'];
const TIMEOUT_MESSAGES = ['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout'];

/** instrument wraps a pg.Pool; see index.d.ts for the options. */
export function instrument(pool, options = {}) {
  return new Pilot(pool, options);
}

export class Pilot {
  constructor(pool, options = {}) {
    for (const k of INTERNALS) {
      if (pool == null || pool[k] === undefined) {
        throw new TypeError(`instrument: pool has no ${k}: pass a pg.Pool (pg-pool 3.x) or Neon's Pool`);
      }
    }
    if (pool.__poolpilot) throw new TypeError('instrument: this pool is already instrumented');
    this.pool = pool;
    this.opts = options;
    this.now = options.now || (() => performance.now());
    this.clock = options.clock || (() => new Date());
    this.service = options.service || '';
    this.log = options.logger || { info() {}, warn() {} };
    this.windowMs = options.windowMs || 60000;
    this.applyConfig(options);
    this.secrets = [...secretsOf(pool.options), ...(options.secrets || [])].filter(Boolean);
    const env = options.env || process.env;
    this.adminToken = options.adminToken !== undefined ? options.adminToken : env[options.adminTokenEnv || 'POOLPILOT_ADMIN_TOKEN'] || '';
    if (this.adminToken) this.secrets.push(this.adminToken);
    this.win = new Window(this.windowMs, ['wait', 'queue', 'dial'], this.now);
    this.requests = new Requests(this.windowMs, this.now);
    this.counts = { acquires: 0, timeouts: 0, refusals: 0, opened: 0, resizes: 0 };
    this.closedBy = {};
    this.pending = new Set(); // start times of acquires in progress
    this.connected = new WeakSet();
    this.fresh = new WeakSet(); // connected, not yet handed out
    this.marks = new WeakMap(); // client -> close reason
    this.limits = null;
    this.closed = false;
    this.monitor = new Monitor(pool, options.pingTimeoutMs || 1000);
    this.pingCache = new PingCache(() => this.ping(), { ttlMs: Math.min(options.pingCacheTtlMs || 1000, 1000), now: this.now });
    this.hook();
    pool.__poolpilot = this;
    if (options.keeper !== false) this.startKeeper();
    if (options.budget !== false) this.readBudget();
  }

  /** applyConfig sets the effective configuration: from env/config (strict), or read from the pool. */
  applyConfig(options) {
    const o = this.pool.options;
    let cfg = options.config;
    if (!cfg && options.env) cfg = parsePoolEnv(options.env);
    if (cfg) {
      Object.assign(o, pgOptions(cfg));
      this.cfg = { ...cfg, source: { ...cfg.source } };
      return;
    }
    const source = {};
    for (const k of Object.values(KEYS)) source[k] = 'default';
    this.cfg = {
      max: o.max,
      min: o.min || 0,
      idleTimeoutMillis: o.idleTimeoutMillis || 0,
      connectionTimeoutMillis: o.connectionTimeoutMillis || 0,
      maxLifetimeMillis: (o.maxLifetimeSeconds || 0) * 1000,
      healthCheckPeriodMillis: options.healthCheckPeriodMillis || 60000,
      pooler: '',
      source,
    };
  }

  /** hook wraps connect and _remove and listens to the pool's events. */
  hook() {
    const pool = this.pool;
    const connect = pool.connect;
    this.rawConnect = (cb) => connect.call(pool, cb);
    pool.connect = (cb) => this.acquire(cb);
    const remove = pool._remove;
    pool._remove = (client, cb) => {
      if (!this.marks.has(client)) {
        let reason = client._queryable === false || client._ending ? 'broken' : 'idle';
        if (pool.ending) reason = 'shutdown';
        this.marks.set(client, reason);
      }
      // Tallied here, as the pool drops the client (totalCount falls now), not on
      // 'remove', which fires only once the connection's end() completes: a reader
      // that sees the smaller total must also see the close counted.
      const tally = this.marks.get(client);
      this.closedBy[tally] = (this.closedBy[tally] || 0) + 1;
      return remove.call(pool, client, cb);
    };
    // Connections opened before instrument() are not constructing.
    for (const c of pool._clients) if (c._connected || pool._idle.some((i) => i.client === c)) this.connected.add(c);
    pool.on('connect', (client) => {
      this.counts.opened++;
      this.connected.add(client);
      this.fresh.add(client);
    });
    pool.on('release', (err, client) => this.onRelease(err, client));
    pool.on('remove', () => {
      if (!pool.ending && !this.closed) setImmediate(() => this.fill());
    });
  }

  /** acquire is pool.connect, measured: callback or promise form. */
  acquire(cb) {
    const pool = this.pool;
    const start = this.now();
    const queued = pool.idleCount === 0 && pool.totalCount >= pool.options.max;
    const token = { start };
    this.pending.add(token);
    const done = (err, client) => {
      this.pending.delete(token);
      this.recordAcquire(err, client, this.now() - start, queued);
    };
    if (typeof cb === 'function') {
      return this.rawConnect((err, client, release) => {
        done(err, client);
        cb(err, client, release);
      });
    }
    return this.rawConnect().then(
      (client) => {
        done(null, client);
        return client;
      },
      (err) => {
        done(err);
        throw err;
      },
    );
  }

  recordAcquire(err, client, ms, queued) {
    if (err) {
      if (TIMEOUT_MESSAGES.some((m) => String(err.message).startsWith(m))) this.counts.timeouts++;
      if (err.code === '53300') this.counts.refusals++;
      return;
    }
    const us = ms * 1000;
    this.counts.acquires++;
    this.win.record('wait', us);
    if (queued) this.win.record('queue', us);
    if (client && this.fresh.has(client)) {
      this.fresh.delete(client);
      this.win.record('dial', us);
      this.win.count('dials');
    }
  }

  /** onRelease closes a released client while the pool holds more than max. */
  onRelease(err, client) {
    const pool = this.pool;
    this.fresh.delete(client);
    if (err || client._queryable === false || client._ending) {
      this.marks.set(client, 'broken');
      return;
    }
    if (pool._expired.has(client)) {
      this.marks.set(client, 'lifetime');
      return;
    }
    if (pool.totalCount > pool.options.max && pool.totalCount - pool.expiredCount > pool.options.max) {
      pool._expired.add(client); // pg-pool closes an expired client on release
      this.marks.set(client, 'resize');
    }
  }

  /** config returns the effective configuration in its JSON form (PUT /admin/pool's answer). */
  config() {
    const c = this.cfg;
    const out = {
      max: c.max,
      min: c.min,
      idle_timeout_ms: c.idleTimeoutMillis,
      connection_timeout_ms: c.connectionTimeoutMillis,
      max_lifetime_ms: c.maxLifetimeMillis,
      health_check_period_ms: c.healthCheckPeriodMillis,
    };
    if (c.pooler) out.pooler = c.pooler;
    out.source = { ...c.source };
    return out;
  }

  /** stats returns the "pool" object of /healthz; it never waits. */
  stats() {
    const pool = this.pool;
    const { pooler, source, ...cfg } = this.config();
    const ws = this.win.read();
    let constructing = 0;
    for (const c of pool._clients) if (!this.connected.has(c)) constructing++;
    const total = pool.totalCount;
    const idle = pool.idleCount;
    const acquired = Math.max(0, total - idle - constructing);
    let oldest = Infinity;
    for (const t of this.pending) oldest = Math.min(oldest, t.start);
    const waiting = pool.waitingCount;
    const s = { ...cfg };
    if (pooler) s.pooler = pooler;
    s.source = source;
    Object.assign(s, {
      total,
      acquired,
      idle,
      constructing,
      waiting,
      oldest_wait_ms: waiting > 0 && oldest !== Infinity ? round3(this.now() - oldest) : 0,
      utilization: cfg.max > 0 ? round3(acquired / cfg.max) : 0,
      wait_p50_ms: quantile(ws.wait, 0.5),
      wait_p95_ms: quantile(ws.wait, 0.95),
      wait_p99_ms: quantile(ws.wait, 0.99),
      queue_p95_ms: quantile(ws.queue, 0.95, ws.wait.total - Math.min(ws.queue.total, ws.wait.total)),
      dial_p95_ms: quantile(ws.dial, 0.95),
      acquires: this.counts.acquires,
      acquire_timeouts: this.counts.timeouts,
      acquire_cancels: 0,
      server_refusals: this.counts.refusals,
      opened: this.counts.opened,
      closed: Object.values(this.closedBy).reduce((a, b) => a + b, 0),
    });
    if (s.closed > 0) s.closed_by_reason = { ...this.closedBy };
    s.churn = ws.wait.total > 0 ? round3((ws.counters.dials || 0) / ws.wait.total) : 0;
    s.window_seconds = this.windowMs / 1000;
    s.resizes = this.counts.resizes;
    return s;
  }

  /** budget compares max with what the server can serve; null until read. */
  budget() {
    return this.limits ? budgetOf(this.limits, this.cfg.max, this.cfg.pooler) : null;
  }

  /**
   * resize changes max and min live; see the README for what it does to
   * connections. It runs synchronously (closing connections finishes in the
   * background), so two resizes never overlap and "another resize is in
   * progress" (409 in Go) cannot happen here.
   */
  async resize(max, min) {
    validateSize(max, min);
    if (this.closed || this.pool.ending) throw new ConflictError('the pool is closed');
    const pool = this.pool;
    const old = { max: this.cfg.max, min: this.cfg.min };
    this.cfg.max = max;
    this.cfg.min = min;
    this.cfg.source = { ...this.cfg.source, max: 'admin', min: 'admin' };
    pool.options.max = max;
    pool.options.min = min;
    this.counts.resizes++;
    if (max < old.max) this.closeIdleSurplus();
    if (min < old.min) this.armIdleTimers();
    for (let i = 0; i < max && pool.waitingCount > 0 && (pool.idleCount > 0 || pool.totalCount < max); i++) {
      pool._pulseQueue();
    }
    this.fill();
    this.log.info('pool resized', { from_max: old.max, from_min: old.min, to_max: max, to_min: min });
    return this.config();
  }

  closeIdleSurplus() {
    const pool = this.pool;
    let excess = pool.totalCount - pool.expiredCount - pool.options.max;
    for (const item of pool._idle.slice()) {
      if (excess <= 0) break;
      this.marks.set(item.client, 'resize');
      pool._remove(item.client);
      excess--;
    }
  }

  /** armIdleTimers gives idle clients kept for the old min an idle timeout again. */
  armIdleTimers() {
    const pool = this.pool;
    const ms = pool.options.idleTimeoutMillis;
    if (!ms) return;
    for (const item of pool._idle) {
      if (item.timeoutId !== undefined) continue;
      item.timeoutId = setTimeout(() => {
        if (pool._isAboveMin() && pool._idle.includes(item)) pool._remove(item.client, pool._pulseQueue.bind(pool));
      }, ms);
      if (pool.options.allowExitOnIdle) item.timeoutId.unref();
    }
  }

  /** fill opens connections until the pool holds min (node-postgres does not by itself). */
  fill() {
    const pool = this.pool;
    if (this.closed || pool.ending || this.opts.keeper === false) return;
    const target = Math.min(pool.options.min || 0, pool.options.max);
    while (pool.totalCount - pool.expiredCount < target) {
      pool.newClient({
        callback: (err, client) => {
          if (err) {
            if (err.code === '53300') this.counts.refusals++;
            this.log.warn('keeper: cannot open a connection', { err: this.redact(err.message) });
            return;
          }
          this.fresh.delete(client);
          client.release();
          if (!this.limits && this.opts.budget !== false) this.readBudget();
        },
      });
    }
  }

  startKeeper() {
    this.fill();
    const period = this.cfg.healthCheckPeriodMillis || 60000;
    this.keeperTimer = setInterval(() => {
      this.fill();
      if (!this.limits && this.opts.budget !== false) this.readBudget();
    }, period);
    this.keeperTimer.unref();
  }

  /**
   * readBudget reads the server's limits once, over an idle pool client, or
   * a new one when the pool is empty; it never queues and never dials beside
   * connections being opened (it is tried again after the keeper's, on each
   * /healthz and each keeper tick until it has succeeded).
   */
  async readBudget() {
    const pool = this.pool;
    if (this.limits || this.readingBudget || this.closed || pool.ending) return;
    if (!(pool.idleCount > 0 && pool.waitingCount === 0) && pool.totalCount > 0) return;
    this.readingBudget = true;
    let client;
    try {
      client = await this.rawConnect();
      const l = await withTimeout(readLimits(client), 5000, 'read server limits');
      l.other_connections = Math.max(0, l.other_connections - (this.pool.totalCount - 1) - (this.monitor.client ? 1 : 0));
      this.limits = l;
      const b = this.budget();
      if (!b.ok) this.log.warn('POOL CONNECTION BUDGET EXCEEDED: ' + b.message, {});
      client.release();
    } catch (err) {
      if (client) client.release(err);
      this.log.warn('cannot read the server connection limits', { err: this.redact(err.message) });
    } finally {
      this.readingBudget = false;
    }
  }

  /** ping checks the database without queueing behind a full pool. */
  async ping() {
    const pool = this.pool;
    if (this.closed || pool.ending) throw new Error('the pool is closed');
    const timeout = this.opts.pingTimeoutMs || 1000;
    if (pool.idleCount > 0 && pool.waitingCount === 0) {
      const client = await withTimeout(this.rawConnect(), timeout, 'ping');
      try {
        await withTimeout(client.query('select 1'), timeout, 'ping');
      } catch (err) {
        client.release(err);
        throw err;
      }
      client.release();
      return;
    }
    await withTimeout(this.monitor.ping(), timeout, 'ping (monitor connection)');
  }

  /** health builds the /healthz document and its status code. */
  async health() {
    const err = await this.pingCache.check();
    if (!err && !this.limits && this.opts.budget !== false) this.readBudget();
    const doc = { schema: HEALTH_SCHEMA, status: err ? 'unavailable' : 'ok' };
    if (err) doc.error = this.redact('database unreachable: ' + (err.message || String(err)));
    if (this.service) doc.service = this.service;
    doc.time = goTime(this.clock());
    doc.pool = this.stats();
    doc.requests = this.requests.stats();
    const b = this.budget();
    if (b) doc.budget = b;
    return { code: err ? 503 : 200, doc };
  }

  redact(text) {
    return redact(text, this.secrets);
  }

  /** close stops the keeper and the monitor connection; the pool itself is the caller's. */
  async close() {
    this.closed = true;
    clearInterval(this.keeperTimer);
    await this.monitor.close();
  }
}

/** goTime formats a date as Go's time.Time JSON (RFC 3339, trailing zeros trimmed). */
export function goTime(d) {
  return d.toISOString().replace(/\.?0+Z$/, 'Z').replace(/\.Z$/, 'Z');
}

export { PoolConfigError };
