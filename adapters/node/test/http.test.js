// The HTTP surface on a real PostgreSQL: /healthz field for field as the Go
// reference writes it, PUT /admin/pool's status codes, /metrics through
// promtool, the request middleware, and /healthz under a saturated pool.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { instrument } from '../src/index.js';
import { startPostgres } from './pg.js';
import { serve, put, getJSON, eventually, endPool } from './util.js';

let db;
before(async () => { db = await startPostgres({ max_connections: 40 }); });
after(async () => { await db?.stop(); });

const TOKEN = 'http-token-456';

// The Go reference's field names and order (poolpilot.Health, PoolStats, RequestStats, Budget).
const HEALTH_KEYS = ['schema', 'status', 'service', 'time', 'pool', 'requests', 'budget'];
const POOL_KEYS = ['max', 'min', 'idle_timeout_ms', 'connection_timeout_ms', 'max_lifetime_ms', 'health_check_period_ms', 'source',
  'total', 'acquired', 'idle', 'constructing', 'waiting', 'oldest_wait_ms', 'utilization', 'wait_p50_ms', 'wait_p95_ms', 'wait_p99_ms',
  'queue_p95_ms', 'dial_p95_ms', 'acquires', 'acquire_timeouts', 'acquire_cancels', 'server_refusals', 'opened', 'closed',
  'churn', 'window_seconds', 'resizes'];
const REQUEST_KEYS = ['total', 'errors', 'error_rate', 'latency_p50_ms', 'latency_p95_ms', 'latency_p99_ms', 'window_seconds'];
const BUDGET_KEYS = ['max_connections', 'superuser_reserved_connections', 'reserved_connections', 'other_connections', 'available', 'pool_max', 'ok', 'message'];
const SOURCE_KEYS = ['max', 'min', 'idle_timeout_ms', 'connection_timeout_ms', 'max_lifetime_ms', 'health_check_period_ms', 'pooler'];

async function setup(app, poolOpts = {}, pilotOpts = {}, handler) {
  const pool = new pg.Pool({ connectionString: `${db.url}?application_name=${app}`, ...poolOpts });
  const env = { DATABASE_URL: db.url, DB_POOL_MAX: '4', DB_POOL_MIN: '1', DB_POOL_CONNECTION_TIMEOUT: '1000' };
  const pilot = instrument(pool, { service: 'http-test', adminToken: TOKEN, env, ...pilotOpts });
  const srv = await serve(pilot, handler);
  return { pool, pilot, srv, cleanup: async () => { await srv.close(); await pilot.close(); await endPool(pool); } };
}

test('/healthz: the Go reference\'s document, field for field and unit for unit', async () => {
  const t = await setup('pp-health');
  try {
    const c = await t.pool.connect();
    await c.query('select 1');
    c.release();
    await eventually(async () => (await getJSON(`${t.srv.url}/healthz`)).json.budget !== undefined, async () => 'no budget yet');
    const res = await fetch(`${t.srv.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const h = await res.json();
    assert.deepEqual(Object.keys(h), HEALTH_KEYS);
    assert.equal(h.schema, '1.0');
    assert.equal(h.status, 'ok');
    assert.equal(h.service, 'http-test');
    assert.match(h.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    assert.deepEqual(Object.keys(h.pool), POOL_KEYS);
    assert.deepEqual(Object.keys(h.pool.source).sort(), [...SOURCE_KEYS].sort());
    assert.deepEqual(Object.keys(h.requests), REQUEST_KEYS);
    assert.deepEqual(Object.keys(h.budget), BUDGET_KEYS);
    // Units: milliseconds for times, seconds for windows, 0..1 ratios.
    assert.equal(h.pool.max, 4);
    assert.equal(h.pool.min, 1);
    assert.equal(h.pool.source.max, 'env');
    assert.equal(h.pool.source.idle_timeout_ms, 'default');
    assert.equal(h.pool.idle_timeout_ms, 30000);
    assert.equal(h.pool.connection_timeout_ms, 1000);
    assert.equal(h.pool.max_lifetime_ms, 3600000);
    assert.equal(h.pool.health_check_period_ms, 60000);
    assert.equal(h.pool.window_seconds, 60);
    assert.equal(h.requests.window_seconds, 60);
    assert.ok(h.pool.acquires >= 1);
    assert.ok(h.pool.utilization >= 0 && h.pool.utilization <= 1);
    assert.ok(h.pool.total >= h.pool.min && h.pool.total <= h.pool.max, JSON.stringify(h.pool));
    assert.equal(h.budget.max_connections, 40);
    assert.equal(h.budget.pool_max, 4);
    assert.equal(h.budget.ok, true);
    assert.match(h.budget.message, /^DB_POOL_MAX 4 fits: max_connections 40/);
    for (const k of POOL_KEYS.filter((k) => k !== 'source')) assert.equal(typeof h.pool[k], 'number', k);
    for (const k of ['total', 'acquired', 'idle', 'constructing', 'waiting', 'acquires', 'opened', 'closed']) assert.ok(Number.isInteger(h.pool[k]), k);
    const head = await fetch(`${t.srv.url}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const post = await fetch(`${t.srv.url}/healthz`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  } finally {
    await t.cleanup();
  }
});

test('/healthz never waits for a pool connection: all held and a caller queued', async () => {
  const t = await setup('pp-saturated');
  const held = [];
  try {
    held.push(...(await Promise.all([0, 1, 2, 3].map(() => t.pool.connect()))));
    const queued = t.pool.connect().then((c) => c, (e) => e);
    const times = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const h = await getJSON(`${t.srv.url}/healthz`);
      times.push(performance.now() - start);
      assert.equal(h.status, 200, JSON.stringify(h.json));
      assert.equal(h.json.pool.acquired, 4);
      assert.equal(h.json.pool.utilization, 1);
      assert.equal(h.json.pool.waiting, 1);
      assert.ok(h.json.pool.oldest_wait_ms > 0);
      assert.equal(t.pool.waitingCount, 1, 'the health check did not queue for a pool connection');
    }
    // A ping queued behind the full pool would wait the 1000 ms connection timeout.
    for (const ms of times) assert.ok(ms < 500, `a /healthz took ${ms} ms: ${times}`);
    const err = await queued; // connection timeout 1000 ms
    assert.match(String(err.message), /timeout/);
    assert.equal(t.pilot.stats().acquire_timeouts, 1);
  } finally {
    for (const c of held) c.release();
    await t.cleanup();
  }
});

test('/healthz answers 503 with the password redacted when the database is unreachable', async () => {
  const pool = new pg.Pool({ connectionString: 'postgres://app:hunter2-secret@127.0.0.1:1/db', connectionTimeoutMillis: 500 });
  const pilot = instrument(pool, { service: 'down', adminToken: TOKEN, keeper: false });
  const srv = await serve(pilot);
  try {
    const res = await fetch(`${srv.url}/healthz`);
    const text = await res.text();
    assert.equal(res.status, 503);
    const h = JSON.parse(text);
    assert.equal(h.status, 'unavailable');
    assert.match(h.error, /^database unreachable: /);
    assert.ok(!text.includes('hunter2'), text);
    const r = await put(srv.url, 'hunter2-secret', '{"max":3}');
    assert.equal(r.status, 401);
    assert.ok(!r.text.includes('hunter2'));
  } finally {
    await srv.close();
    await pilot.close();
    await pool.end();
  }
});

// node-postgres' own connect errors rarely carry the password, so the test
// above cannot see a leak; a driver that echoes its connection string in
// an error (as wrappers and some drivers do) must still be redacted: the
// URL's password, a password=… pair, and the literal secret.
test('/healthz redacts a password the driver puts in its error', async () => {
  const dsn = 'postgres://app:hunter2-secret@127.0.0.1:1/db';
  class EchoingClient extends pg.Client {
    connect() {
      return Promise.reject(new Error(`cannot connect to ${dsn} as host=127.0.0.1 password=hunter2-secret sslmode=disable, secret hunter2-secret`));
    }
  }
  const pool = new pg.Pool({ connectionString: dsn, Client: EchoingClient });
  const pilot = instrument(pool, { service: 'echo', adminToken: TOKEN, keeper: false, budget: false });
  const srv = await serve(pilot);
  try {
    const res = await fetch(`${srv.url}/healthz`);
    const text = await res.text();
    assert.equal(res.status, 503);
    const h = JSON.parse(text);
    assert.match(h.error, /^database unreachable: cannot connect to postgres:\/\/app:xxxxx@127\.0\.0\.1:1\/db as host=127\.0\.0\.1 password=xxxxx sslmode=disable, secret xxxxx$/);
    assert.ok(!text.includes('hunter2'), text);
  } finally {
    await srv.close();
    await pilot.close();
    await pool.end();
  }
});

test('PUT /admin/pool: status codes and messages of the Go reference', async () => {
  const t = await setup('pp-admin');
  try {
    const u = t.srv.url;
    let r = await put(u, null, '{"max":5}');
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="poolpilot"');
    r = await put(u, 'wrong', '{"max":5}');
    assert.equal(r.status, 401);
    const get = await fetch(`${u}/admin/pool`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'PUT');
    const bad = [
      ['', 'request body is empty: send {"max":N,"min":M}'],
      ['null', 'request body is empty'],
      ['{}', 'request body sets neither "max" nor "min"'],
      ['{"max":"5"}', 'field "max" must be an integer, got string'],
      ['{"max":5.5}', 'field "max" must be an integer'],
      ['{"max":5.0}', 'field "max" must be an integer'],
      ['{"max":1e2}', 'field "max" must be an integer'],
      ['{"max":5,"size":3}', 'unknown field "size"'],
      ['{"max":5} {"min":1}', 'request body has data after the JSON object'],
      ['[5]', 'the body must be a JSON object'],
      ['{"max":10,"min":300}', 'invalid pool configuration: min (300) must not exceed max (10)'],
      ['{"max":0,"min":-1}', 'invalid pool configuration: max (0) must be at least 1: a pool of zero connections cannot serve a query; min (-1) must not be negative'],
      ['{"max":10001}', 'max (10001) is absurd'],
      ['{"min":5}', 'min (5) must not exceed max (4)'],
    ];
    for (const [body, want] of bad) {
      r = await put(u, TOKEN, body);
      assert.equal(r.status, 400, `${body}: ${r.text}`);
      assert.ok(r.json.error.includes(want), `${body}: ${r.json.error} does not say ${want}`);
    }
    r = await put(u, TOKEN, '{"max":' + '1'.repeat(5000) + '}');
    assert.equal(r.status, 413);
    assert.equal(t.pilot.stats().resizes, 0, 'nothing changed by a refused request');
    r = await put(u, TOKEN, ' {"max": 6} ');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), ['max', 'min', 'idle_timeout_ms', 'connection_timeout_ms', 'max_lifetime_ms', 'health_check_period_ms', 'source']);
    assert.deepEqual(r.json, { max: 6, min: 1, idle_timeout_ms: 30000, connection_timeout_ms: 1000, max_lifetime_ms: 3600000, health_check_period_ms: 60000,
      source: { max: 'admin', min: 'admin', idle_timeout_ms: 'default', connection_timeout_ms: 'env', max_lifetime_ms: 'default', health_check_period_ms: 'default', pooler: 'default' } });
    await t.pilot.close();
    await t.pool.end();
    r = await put(u, TOKEN, '{"max":7}');
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.error, 'resize failed: the pool is closed');
  } finally {
    await t.srv.close();
  }
  const none = instrument(new pg.Pool({ connectionString: db.url }), { adminToken: '', keeper: false, budget: false });
  const srv = await serve(none);
  try {
    const r = await put(srv.url, TOKEN, '{"max":5}');
    assert.equal(r.status, 404, 'no token configured: the endpoint does not exist');
  } finally {
    await srv.close();
    await none.close();
    await none.pool.end();
  }
});

test('the admin token comes from POOLPILOT_ADMIN_TOKEN in env by default', async () => {
  const pool = new pg.Pool({ connectionString: db.url });
  const pilot = instrument(pool, { env: { DATABASE_URL: db.url, DB_POOL_MIN: '0', DB_POOL_MAX: '3', POOLPILOT_ADMIN_TOKEN: 'from-env' }, budget: false });
  const srv = await serve(pilot);
  try {
    assert.equal((await put(srv.url, 'from-env', '{"max":2}')).status, 200);
    assert.equal(pool.options.max, 2);
  } finally {
    await srv.close();
    await pilot.close();
    await pool.end();
  }
});

test('middleware: 5xx answers and throwing handlers are errors; the pool\'s own routes are not counted', async () => {
  let n = 0;
  const t = await setup('pp-requests', {}, {}, async (req, res) => {
    n++;
    if (req.url === '/boom') throw new Error('boom with postgres://u:hunter2@h/db');
    const { rows } = await t.pool.query('select $1::int as n', [n]);
    res.statusCode = req.url === '/fail' ? 503 : 200;
    res.end(String(rows[0].n));
  });
  try {
    for (let i = 0; i < 7; i++) assert.equal((await fetch(`${t.srv.url}/ok`)).status, 200);
    assert.equal((await fetch(`${t.srv.url}/fail`)).status, 503);
    const boom = await fetch(`${t.srv.url}/boom`);
    assert.equal(boom.status, 500);
    assert.ok(!(await boom.text()).includes('hunter2'));
    assert.equal((await fetch(`${t.srv.url}/ok`)).status, 200);
    const h = (await getJSON(`${t.srv.url}/healthz`)).json;
    assert.equal(h.requests.total, 10);
    assert.equal(h.requests.errors, 2);
    assert.equal(h.requests.error_rate, 0.2);
    assert.ok(h.requests.latency_p50_ms > 0 && h.requests.latency_p50_ms <= h.requests.latency_p95_ms);
    assert.ok(h.requests.latency_p95_ms <= h.requests.latency_p99_ms);
    assert.ok(h.pool.acquires >= 8, `acquires ${h.pool.acquires}: pool.query goes through the measured connect`);
    assert.ok(h.pool.wait_p50_ms <= h.pool.wait_p99_ms);
  } finally {
    await t.cleanup();
  }
});

test('/metrics: the Go reference\'s names, clean for promtool', async () => {
  const t = await setup('pp-metrics');
  try {
    await t.pool.query('select 1');
    await fetch(`${t.srv.url}/x`);
    const res = await fetch(`${t.srv.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const line of ['poolpilot_pool_max_connections 4', 'poolpilot_pool_min_connections 1', 'poolpilot_pool_connection_timeout_seconds 1',
      'http_requests_total{code="200",method="GET"} 1']) {
      assert.ok(text.includes(line + '\n'), `missing ${line}`);
    }
    assert.match(text, /poolpilot_pool_acquires_total [1-9]/);
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(out.trim(), '', `promtool: ${out}`);
  } finally {
    await t.cleanup();
  }
});
