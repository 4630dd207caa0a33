// Live resize through PUT /admin/pool on a real PostgreSQL, with the pool's
// connections counted in pg_stat_activity by application_name.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { instrument } from '../src/index.js';
import { startPostgres } from './pg.js';
import { serve, backends, eventually, put, getJSON, endPool } from './util.js';

let db;
before(async () => { db = await startPostgres({ max_connections: 60 }); });
after(async () => { await db?.stop(); });

const TOKEN = 'resize-token-123';

async function setup(app, poolOpts, pilotOpts = {}) {
  const pool = new pg.Pool({ connectionString: `${db.url}?application_name=${app}`, idleTimeoutMillis: 30000, ...poolOpts });
  const pilot = instrument(pool, { service: 'resize-test', adminToken: TOKEN, ...pilotOpts });
  const srv = await serve(pilot);
  const count = () => backends(db.url, app);
  const settle = (want, what) => eventually(async () => (await count()) === want, async () => `${what}: ${await count()} backends of ${app}, want ${want}`);
  const cleanup = async () => { await srv.close(); await pilot.close(); await endPool(pool); };
  return { pool, pilot, srv, count, settle, cleanup };
}

test('grow admits a waiting caller and min opens connections; shrink closes idle surplus at once and busy ones on release', async () => {
  const t = await setup('pp-resize', { max: 4, min: 0 });
  try {
    const held = await Promise.all([0, 1, 2, 3].map(() => t.pool.connect()));
    const waiter = t.pool.connect();
    await eventually(async () => t.pilot.stats().waiting === 1, async () => JSON.stringify(t.pilot.stats()));
    await t.settle(4, 'four held');

    let r = await put(t.srv.url, TOKEN, '{"max":8,"min":6}');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.max, 8);
    assert.equal(r.json.min, 6);
    assert.equal(r.json.source.max, 'admin');
    assert.equal(r.json.source.min, 'admin');
    held.push(await waiter); // admitted by the grow, without a release
    await t.settle(6, 'after grow to max 8 min 6 (5 held + 1 opened by the keeper)');
    assert.equal(t.pool.options.max, 8);

    for (const c of held) c.release();
    let s = t.pilot.stats();
    assert.equal(s.acquired, 0);
    assert.equal(s.idle, 6);

    r = await put(t.srv.url, TOKEN, '{"max":2,"min":1}');
    assert.equal(r.status, 200, r.text);
    await t.settle(2, 'after shrink to max 2 with everything idle');
    s = t.pilot.stats();
    assert.equal(s.total, 2);
    assert.equal(s.max, 2);
    assert.equal(s.closed_by_reason.resize, 4);
    assert.equal(s.resizes, 2);

    // Shrink below what is in use: nobody is interrupted; the surplus closes on release.
    const busy = [await t.pool.connect(), await t.pool.connect()];
    r = await put(t.srv.url, TOKEN, '{"max":1,"min":0}');
    assert.equal(r.status, 200, r.text);
    assert.equal((await busy[0].query('select 1 as one')).rows[0].one, 1, 'a held client still works after the shrink');
    await t.settle(2, 'both still held');
    busy[0].release();
    await t.settle(1, 'one released over max');
    assert.equal(t.pilot.stats().closed_by_reason.resize, 5);
    busy[1].release();
    await t.settle(1, 'the last one stays (max 1)');

    // min alone: the keeper opens connections with no query at all.
    r = await put(t.srv.url, TOKEN, '{"max":5,"min":3}');
    assert.equal(r.status, 200, r.text);
    await t.settle(3, 'min 3 kept open by the keeper');
    const h = await getJSON(`${t.srv.url}/healthz`);
    assert.equal(h.json.pool.total, 3);
    assert.equal(h.json.pool.min, 3);
    assert.equal(h.json.pool.resizes, 4);
  } finally {
    await t.cleanup();
  }
});

test('a pool built with min (as the seed does) holds min connections from the start', async () => {
  const t = await setup('pp-keeper', { max: 10, min: 4 });
  try {
    await t.settle(4, 'keeper at start');
    const s = t.pilot.stats();
    assert.equal(s.opened, 4);
    assert.equal(s.acquires, 0, 'the keeper\'s connections are not acquires of the service');
  } finally {
    await t.cleanup();
  }
});

test('lowering min lets the surplus idle out after the idle timeout', async () => {
  const t = await setup('pp-idle', { max: 6, min: 5, idleTimeoutMillis: 200 });
  try {
    await t.settle(5, 'min 5');
    const r = await put(t.srv.url, TOKEN, '{"min":1}');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.max, 6, 'a field left out keeps its value');
    await t.settle(1, 'idle timeout down to the new min');
    assert.equal(t.pilot.stats().closed_by_reason.idle, 4);
  } finally {
    await t.cleanup();
  }
});

test('a pool used before instrument(): its open connections count as idle, not constructing', async () => {
  const pool = new pg.Pool({ connectionString: `${db.url}?application_name=pp-before`, max: 3 });
  await pool.query('select 1');
  const pilot = instrument(pool, { adminToken: TOKEN, keeper: false, budget: false });
  try {
    const s = pilot.stats();
    assert.equal(s.total, 1);
    assert.equal(s.idle, 1);
    assert.equal(s.constructing, 0);
    assert.equal(s.acquired, 0);
  } finally {
    await pilot.close();
    await endPool(pool);
  }
});
