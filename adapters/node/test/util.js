// Shared test helpers: a server around an instrumented pool, and a count of
// a pool's backends in pg_stat_activity.

import http from 'node:http';
import pg from 'pg';

/** serve starts a node:http server on 127.0.0.1 with pilot.wrap(handler). */
export async function serve(pilot, handler = (req, res) => { res.end('ok'); }) {
  const server = http.createServer(pilot.wrap(handler));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

/** backends counts the server connections of application_name app. */
export async function backends(url, app) {
  const c = new pg.Client({ connectionString: url, application_name: 'poolpilot-test-counter' });
  await c.connect();
  try {
    const r = await c.query('select count(*)::int as n from pg_stat_activity where application_name = $1', [app]);
    return r.rows[0].n;
  } finally {
    await c.end();
  }
}

/**
 * eventually polls check until it returns true, or fails after ms with
 * what describe() says: the server closes a backend asynchronously, so a
 * count in pg_stat_activity settles a moment after the pool acts.
 */
export async function eventually(check, describe, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${await describe()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function put(url, token, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${url}/admin/pool`, { method: 'PUT', headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text.startsWith('{') ? JSON.parse(text) : null };
}

export async function getJSON(url) {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, json: await res.json() };
}

/** endPool ends a pool, giving up after 5 s (a failed test may still hold clients). */
export function endPool(pool) {
  let tid;
  const t = new Promise((r) => { tid = setTimeout(r, 5000); });
  return Promise.race([pool.end(), t]).finally(() => clearTimeout(tid));
}
