// The HTTP surface of an instrumented pool: request measurement, GET
// /healthz, GET /metrics and PUT /admin/pool, with the status codes, headers
// and bodies of poolpilot's Go reference (httpapi).

import { createHash, timingSafeEqual } from 'node:crypto';
import { validateSize, PoolConfigError } from './env.js';
import { ConflictError } from './instrument.js';

export const MAX_ADMIN_BODY = 4096;
export const OWN_ROUTES = ['/healthz', '/metrics', '/admin/pool'];
const USAGE = 'send {"max":N,"min":M}';

export function writeJSON(res, code, v, extraHeaders = {}) {
  const body = JSON.stringify(v, null, 2) + '\n';
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'X-Content-Type-Options': 'nosniff',
    ...extraHeaders,
  });
  res.end(body);
}

function writeError(res, code, msg, headers) {
  writeJSON(res, code, { error: msg }, headers);
}

function methodNotAllowed(res, ...allowed) {
  writeError(res, 405, 'method not allowed: use ' + allowed.join(' or '), { Allow: allowed.join(', ') });
}

function notFound(res) {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end('404 page not found\n');
}

export function pathOf(req) {
  const url = req.originalUrl || req.url || '/';
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
}

/** measure records a request's status and latency when its answer ends. */
export function measure(pilot, req, res) {
  if (!pilot.opts.countOwnRoutes && OWN_ROUTES.includes(pathOf(req))) return;
  const start = pilot.now();
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    const ms = pilot.now() - start;
    pilot.requests.record(res.statusCode, ms);
    if (pilot.metrics) pilot.metrics.observeRequest(req.method, res.statusCode, ms / 1000);
  };
  res.once('finish', finish);
  res.once('close', finish);
}

/** route serves the pool's own routes; returns false for any other path. */
export function route(pilot, req, res) {
  switch (pathOf(req)) {
    case '/healthz':
      serveHealth(pilot, req, res);
      return true;
    case '/metrics':
      serveMetrics(pilot, req, res);
      return true;
    case '/admin/pool':
      serveAdmin(pilot, req, res);
      return true;
  }
  return false;
}

export async function serveHealth(pilot, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET', 'HEAD');
  const { code, doc } = await pilot.health();
  if (code !== 200) pilot.log.warn('healthz: database unreachable', { service: pilot.service, err: doc.error });
  res.setHeader('Cache-Control', 'no-store');
  if (req.method === 'HEAD') {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    return res.end();
  }
  writeJSON(res, code, doc);
}

export async function serveMetrics(pilot, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET', 'HEAD');
  if (!pilot.metrics) return writeError(res, 501, 'metrics need the optional peer dependency prom-client: npm install prom-client');
  try {
    const { contentType, body } = await pilot.metrics.render();
    res.writeHead(200, { 'Content-Type': contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (err) {
    writeError(res, 500, 'cannot gather metrics: ' + pilot.redact(err.message));
  }
}

/** authorized compares the bearer token in constant time (both sides hashed). */
export function authorized(token, header) {
  if (!header) return [false, 'no Authorization header'];
  const m = /^bearer\s+(.*)$/i.exec(String(header));
  if (!m) return [false, 'not a Bearer token'];
  const a = createHash('sha256').update(m[1].trim()).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) ? [true, ''] : [false, 'wrong token'];
}

/** guard answers 404 (no token configured) or 401 and returns false, or returns true. */
export function guard(pilot, req, res) {
  if (!pilot.adminToken) {
    notFound(res);
    return false;
  }
  const [ok, reason] = authorized(pilot.adminToken, req.headers.authorization);
  if (!ok) {
    pilot.log.warn('admin: unauthorized request', { method: req.method, path: pathOf(req), remote: req.socket?.remoteAddress, reason });
    writeError(res, 401, 'unauthorized: send Authorization: Bearer <POOLPILOT_ADMIN_TOKEN>', {
      'WWW-Authenticate': 'Bearer realm="poolpilot"',
    });
    return false;
  }
  return true;
}

export async function serveAdmin(pilot, req, res) {
  if (!pilot.adminToken) return notFound(res);
  if (req.method !== 'PUT') return methodNotAllowed(res, 'PUT');
  if (!guard(pilot, req, res)) return;
  let body;
  try {
    body = await readBody(req);
  } catch (err) {
    if (err.tooLarge) return writeError(res, 413, err.message);
    return writeError(res, 400, 'cannot read the request body: ' + pilot.redact(err.message));
  }
  let want;
  try {
    want = parseAdminBody(body);
  } catch (err) {
    return writeError(res, 400, pilot.redact(err.message));
  }
  const cfg = pilot.cfg;
  const max = want.max !== undefined ? want.max : cfg.max;
  const min = want.min !== undefined ? want.min : cfg.min;
  const who = { remote: req.socket?.remoteAddress, user_agent: req.headers['user-agent'], from_max: cfg.max, from_min: cfg.min, to_max: max, to_min: min };
  try {
    validateSize(max, min);
    const doc = await pilot.resize(max, min);
    writeJSON(res, 200, doc);
  } catch (err) {
    const code = err instanceof PoolConfigError ? 400 : err instanceof ConflictError ? 409 : 500;
    const msg = pilot.redact(err.message);
    if (code !== 400) pilot.log.warn('admin: pool resize failed', { ...who, status: code, err: msg });
    writeError(res, code, code === 400 ? msg : 'resize failed: ' + msg);
  }
}

/** readBody reads at most MAX_ADMIN_BODY bytes (a body parser may have read it already). */
function readBody(req) {
  if (req.body !== undefined && (req.readableEnded || req.complete)) {
    const s = typeof req.body === 'string' || Buffer.isBuffer(req.body) ? String(req.body) : JSON.stringify(req.body);
    return Promise.resolve(s);
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > MAX_ADMIN_BODY) {
        const err = new Error(`request body is larger than ${MAX_ADMIN_BODY} bytes: ${USAGE}`);
        err.tooLarge = true;
        req.removeAllListeners('data');
        req.resume();
        reject(err);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * parseAdminBody reads {"max":N,"min":M} strictly: one JSON object, known
 * fields only, integers only, nothing after it, at least one field.
 */
export function parseAdminBody(body) {
  const s = String(body).trim();
  if (s === '' || s === 'null') throw new Error(`request body is empty: ${USAGE}`);
  let v;
  try {
    v = JSON.parse(s);
  } catch (err) {
    if (/after JSON|Unexpected non-whitespace/.test(err.message)) {
      throw new Error(`request body has data after the JSON object: send one {"max":N,"min":M}`);
    }
    throw new Error(`request body is not {"max":N,"min":M} with integers: ${err.message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    const got = Array.isArray(v) ? 'array' : typeof v;
    throw new Error(`request body is not {"max":N,"min":M} with integers: the body must be a JSON object, got ${got}`);
  }
  const out = {};
  for (const k of Object.keys(v)) {
    if (k !== 'max' && k !== 'min') throw new Error(`request body is not {"max":N,"min":M} with integers: json: unknown field ${JSON.stringify(k)}`);
  }
  for (const [k, val] of Object.entries(v)) {
    if (val === null) continue;
    // The only keys are "max" and "min", so a '.', 'e' or 'E' anywhere in the
    // body belongs to a number that is not an integer literal.
    if (typeof val !== 'number' || !Number.isSafeInteger(val) || /[.eE]/.test(s.replace(/"(max|min)"/g, ''))) {
      const got = typeof val === 'number' ? `number ${JSON.stringify(val)}` : Array.isArray(val) ? 'array' : typeof val;
      throw new Error(`request body is not {"max":N,"min":M} with integers: field ${JSON.stringify(k)} must be an integer, got ${got}`);
    }
    out[k] = val;
  }
  if (out.max === undefined && out.min === undefined) throw new Error(`request body sets neither "max" nor "min": ${USAGE}`);
  return out;
}

/** wrapHandler makes a plain http handler safe: a throw or rejection answers 500. */
export function callSafely(pilot, handler, req, res) {
  const fail = (err) => {
    pilot.log.warn('handler failed', { err: pilot.redact(err && err.stack ? err.stack : String(err)) });
    if (!res.headersSent) writeError(res, 500, 'internal server error');
    else res.destroy();
  };
  try {
    const r = handler(req, res);
    if (r && typeof r.then === 'function') r.catch(fail);
  } catch (err) {
    fail(err);
  }
}
