// Strict parsing of the DB_POOL_* environment contract, with the rules and
// the wording of poolpilot's Go library (pgpool/config.go): defaults, then
// parse, then validate; every problem is reported at once, each naming its
// variable; nothing is clamped.

import { redact } from './redact.js';

export const ENV = Object.freeze({
  databaseURL: 'DATABASE_URL',
  max: 'DB_POOL_MAX',
  min: 'DB_POOL_MIN',
  idle: 'DB_POOL_IDLE_TIMEOUT',
  conn: 'DB_POOL_CONNECTION_TIMEOUT',
  life: 'DB_POOL_MAX_LIFETIME',
  health: 'DB_POOL_HEALTH_CHECK_PERIOD',
  pooler: 'DB_POOL_POOLER',
});

// JSON names of the settings: the keys of `source` and of /healthz's pool.
export const KEYS = Object.freeze({
  max: 'max',
  min: 'min',
  idle: 'idle_timeout_ms',
  conn: 'connection_timeout_ms',
  life: 'max_lifetime_ms',
  health: 'health_check_period_ms',
  pooler: 'pooler',
});

export const DEFAULTS = Object.freeze({
  max: 200,
  min: 20,
  idleTimeoutMillis: 30000,
  connectionTimeoutMillis: 2000,
  maxLifetimeMillis: 3600000,
  healthCheckPeriodMillis: 60000,
});

export const MAX_POOL_MAX = 10000;

const MS = 1e6; // nanoseconds per millisecond
const S = 1e9;
const LIMITS = {
  idle: [100 * MS, 24 * 3600 * S],
  conn: [10 * MS, 600 * S],
  life: [S, 30 * 24 * 3600 * S],
  health: [100 * MS, 24 * 3600 * S],
};
const INT64_MAX = 9223372036854775807n;

/** PoolConfigError lists every problem of a configuration. */
export class PoolConfigError extends Error {
  constructor(problems) {
    super('invalid pool configuration: ' + problems.join('; '));
    this.name = 'PoolConfigError';
    this.problems = problems;
  }
}

/**
 * parsePoolEnv reads DATABASE_URL and DB_POOL_* from env (process.env by
 * default). An empty variable counts as unset. Throws a PoolConfigError
 * naming every problem.
 */
export function parsePoolEnv(env = process.env) {
  const get = (k) => (env[k] == null ? '' : String(env[k]));
  const problems = [];
  const source = {};
  for (const k of Object.values(KEYS)) source[k] = 'default';
  const ns = {
    idle: DEFAULTS.idleTimeoutMillis * MS,
    conn: DEFAULTS.connectionTimeoutMillis * MS,
    life: DEFAULTS.maxLifetimeMillis * MS,
    health: DEFAULTS.healthCheckPeriodMillis * MS,
  };
  const databaseURL = get(ENV.databaseURL);
  if (databaseURL.trim() === '') {
    problems.push(`${ENV.databaseURL} is empty: set it to the PostgreSQL connection URL, e.g. postgres://user@host:5432/db`);
  } else {
    const msg = checkURL(databaseURL);
    if (msg) problems.push(msg);
  }
  const size = { max: DEFAULTS.max, min: DEFAULTS.min };
  const ok = {};
  for (const k of ['max', 'min']) {
    ok[k] = envInt(get(ENV[k]), ENV[k], (v) => { size[k] = v; source[KEYS[k]] = 'env'; }, problems);
  }
  for (const k of ['idle', 'conn', 'life', 'health']) {
    const raw = get(ENV[k]);
    ok[k] = true;
    if (raw === '') continue;
    source[KEYS[k]] = 'env';
    try {
      ns[k] = parseMillisOrDuration(raw);
    } catch (e) {
      problems.push(`${ENV[k]} (${quoteIfOdd(raw)}) ${e.message}`);
      ok[k] = false;
    }
  }
  let pooler = '';
  if (get(ENV.pooler) !== '') {
    pooler = get(ENV.pooler).trim();
    source[KEYS.pooler] = 'env';
  } else {
    const mode = detectPooler(databaseURL);
    if (mode) {
      pooler = mode;
      source[KEYS.pooler] = 'detected';
    }
  }
  checkSize(size.max, size.min, ENV, ok.max, ok.min, problems);
  for (const k of ['idle', 'conn', 'life', 'health']) {
    if (ok[k]) checkRange(ENV[k], ns[k], LIMITS[k][0], LIMITS[k][1], problems);
  }
  if (ok.idle && ok.life && ns.idle > 0 && ns.idle >= ns.life) {
    problems.push(`${ENV.idle} (${fmtDur(ns.idle)}) must be shorter than ${ENV.life} (${fmtDur(ns.life)}): an idle connection would outlive its maximum lifetime`);
  }
  if (!['', 'transaction', 'session'].includes(pooler)) {
    problems.push(`${ENV.pooler} (${JSON.stringify(pooler)}) must be "transaction", "session" or empty (direct connection)`);
  }
  if (problems.length) throw new PoolConfigError(problems);
  const cfg = {
    databaseURL,
    max: size.max,
    min: size.min,
    idleTimeoutMillis: ns.idle / MS,
    connectionTimeoutMillis: ns.conn / MS,
    maxLifetimeMillis: ns.life / MS,
    healthCheckPeriodMillis: ns.health / MS,
    pooler,
    source,
  };
  cfg.pg = pgOptions(cfg);
  return cfg;
}

/** pgOptions turns a parsed configuration into pg.Pool options. */
export function pgOptions(cfg) {
  return {
    max: cfg.max,
    min: cfg.min,
    idleTimeoutMillis: cfg.idleTimeoutMillis,
    connectionTimeoutMillis: cfg.connectionTimeoutMillis,
    maxLifetimeSeconds: Math.ceil(cfg.maxLifetimeMillis / 1000),
  };
}

/**
 * validateSize checks a max/min pair as PUT /admin/pool does; problems name
 * the JSON fields "max" and "min". Throws a PoolConfigError.
 */
export function validateSize(max, min) {
  const problems = [];
  checkSize(max, min, { max: 'max', min: 'min' }, true, true, problems);
  if (problems.length) throw new PoolConfigError(problems);
}

function checkSize(max, min, names, okMax, okMin, problems) {
  if (okMax) {
    if (max < 0) problems.push(`${names.max} (${max}) must not be negative: set the largest number of connections, e.g. ${DEFAULTS.max}`);
    else if (max === 0) problems.push(`${names.max} (0) must be at least 1: a pool of zero connections cannot serve a query`);
    else if (max > MAX_POOL_MAX) problems.push(`${names.max} (${max}) is absurd: at most ${MAX_POOL_MAX} connections per pool`);
  }
  if (okMin && min < 0) problems.push(`${names.min} (${min}) must not be negative: use 0 to keep no idle connections`);
  if (okMax && okMin && max > 0 && min > max) problems.push(`${names.min} (${min}) must not exceed ${names.max} (${max})`);
}

function checkRange(name, d, lo, hi, problems) {
  if (d < 0) problems.push(`${name} (${fmtDur(d)}) must not be negative`);
  else if (d === 0) problems.push(`${name} (0) must be positive: at least ${fmtDur(lo)}`);
  else if (d < lo) problems.push(`${name} (${fmtDur(d)}) is absurdly short: at least ${fmtDur(lo)}`);
  else if (d > hi) problems.push(`${name} (${fmtDur(d)}) is absurdly long: at most ${fmtDur(hi)}`);
}

function envInt(raw, name, set, problems) {
  if (raw === '') return true;
  const s = raw.trim();
  if (!/^[+-]?\d+$/.test(s)) {
    problems.push(`${name} (${quoteIfOdd(raw)}) is not a whole number: write a count such as ${DEFAULTS.max}`);
    set(undefined);
    return false;
  }
  const big = BigInt(s);
  if (big > INT64_MAX || big < -INT64_MAX - 1n) {
    problems.push(`${name} (${quoteIfOdd(raw)}) is out of range: at most ${MAX_POOL_MAX}`);
    set(undefined);
    return false;
  }
  set(Number(big));
  return true;
}

const UNITS = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DURATION = /^[+-]?((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;

/**
 * parseMillisOrDuration reads plain milliseconds ("30000", as in the seed)
 * or a Go duration ("30s", "1m30s") and returns nanoseconds.
 */
export function parseMillisOrDuration(raw) {
  const s = String(raw).trim();
  if (s === '') throw new Error('is blank: write milliseconds (30000) or a Go duration (30s)');
  if (/^[+-]*\d+$/.test(s)) {
    if (!/^[+-]?\d+$/.test(s)) throw new Error('is not a duration: write milliseconds (30000) or a Go duration (30s)');
    const ms = BigInt(s);
    if (ms * 1000000n > INT64_MAX || ms * 1000000n < -INT64_MAX - 1n) {
      throw new Error('is out of range: write milliseconds (30000) or a Go duration (30s)');
    }
    return Number(ms) * MS;
  }
  if (!DURATION.test(s)) throw new Error('is not a duration: write milliseconds (30000) or a Go duration (30s)');
  const neg = s.startsWith('-');
  let total = 0;
  for (const m of s.replace(/^[+-]/, '').matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(m[1]) * UNITS[m[2]];
  }
  if (total > Number(INT64_MAX)) throw new Error('is not a duration: write milliseconds (30000) or a Go duration (30s)');
  return neg ? -total : total;
}

/** fmtDur prints nanoseconds as Go's pgpool does: "500ms", or Go's form. */
export function fmtDur(ns) {
  if (Number.isInteger(ns / MS)) return `${ns / MS}ms`;
  return goDuration(ns);
}

function goDuration(ns) {
  const neg = ns < 0 ? '-' : '';
  let v = Math.abs(ns);
  const trim = (x) => String(Number(x.toFixed(9)));
  if (v < 1e3) return `${neg}${trim(v)}ns`;
  if (v < 1e6) return `${neg}${trim(v / 1e3)}µs`;
  if (v < 1e9) return `${neg}${trim(v / 1e6)}ms`;
  let out = '';
  const h = Math.floor(v / 3600e9);
  v -= h * 3600e9;
  const m = Math.floor(v / 60e9);
  v -= m * 60e9;
  if (h) out += `${h}h`;
  if (h || m) out += `${m}m`;
  return `${neg}${out}${trim(v / 1e9)}s`;
}

/** quoteIfOdd quotes a raw value holding spaces or control characters. */
export function quoteIfOdd(s) {
  // eslint-disable-next-line no-control-regex
  if (s === '' || s.trim() !== s || /[\x00-\x1f\x7f"]/.test(s)) return JSON.stringify(s);
  if (s.length > 64) return JSON.stringify(s.slice(0, 64)) + '…';
  return s;
}

function checkURL(raw) {
  const s = raw.trim();
  if (s.includes('://')) {
    let u;
    try {
      u = new URL(s);
    } catch {
      return `${ENV.databaseURL} (${redact(raw)}) is not a valid URL: write postgres://user:password@host:5432/dbname`;
    }
    const scheme = u.protocol.replace(/:$/, '');
    if (scheme !== 'postgres' && scheme !== 'postgresql') {
      return `${ENV.databaseURL} (${redact(raw)}) has scheme ${JSON.stringify(scheme)}: want postgres:// or postgresql://`;
    }
    return '';
  }
  // keyword/value form: host=… dbname=…
  if (!/^(\s*[A-Za-z_]+\s*=\s*('([^'\\]|\\.)*'|\S*)\s*)+$/.test(s)) {
    return `${ENV.databaseURL} (${redact(raw)}) cannot be parsed: write postgres://user:password@host:5432/dbname or host=… dbname=…`;
  }
  const port = /(?:^|\s)port\s*=\s*'?([^\s']*)/.exec(s);
  if (port && !port[1].split(',').every((p) => /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535)) {
    return `${ENV.databaseURL} (${redact(raw)}) cannot be parsed: invalid port ${JSON.stringify(port[1])}`;
  }
  return '';
}

/** detectPooler guesses a transaction-mode pooler: a Neon "-pooler" host or port 6432. */
export function detectPooler(dsn) {
  const s = String(dsn || '').trim();
  if (!s) return '';
  if (s.includes('://')) {
    try {
      const u = new URL(s);
      for (const hp of u.host.split(',')) {
        const [host, port] = hp.split(':');
        if (host.includes('-pooler') || port === '6432') return 'transaction';
      }
    } catch {
      return '';
    }
    return '';
  }
  const host = /(?:^|\s)host\s*=\s*(\S+)/.exec(s);
  const port = /(?:^|\s)port\s*=\s*(\S+)/.exec(s);
  if ((host && host[1].includes('-pooler')) || (port && port[1].split(',').includes('6432'))) return 'transaction';
  return '';
}
