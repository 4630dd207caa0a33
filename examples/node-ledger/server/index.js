// node-ledger: an Express service whose pool is the seed's (server/db.js,
// server/config/database-pool.js), measured and resizable by poolpilot
// through the three lines marked "poolpilot".
//
//   DATABASE_URL, DB_POOL_*         the pool (strictly checked by the adapter)
//   POOLPILOT_ADMIN_TOKEN           bearer token of PUT /admin/pool (unset: 404)
//   LEDGER_ADDR                     listen address, default 127.0.0.1:8080 (port 0: a free one)
//   LEDGER_FAULT_ERROR_RATE, LEDGER_FAULT_WHEN_MAX_ABOVE   fault injection (server/faults.js)
//
// Prints "listening addr=HOST:PORT" on stdout once it serves; exits 2 on a
// bad configuration (every problem named), 1 when it cannot start.

import express from 'express';
import { pool } from './db.js';
import { migrate, routes, errorHandler } from './ledger.js';
import { parseFaults, faults } from './faults.js';
import { instrument } from '@poolpilot/pg'; // poolpilot 1/3

function fail(code, msg) {
  console.error(`node-ledger: ${msg}`);
  process.exit(code);
}

function listenAddr(env) {
  const raw = (env.LEDGER_ADDR || '127.0.0.1:8080').trim();
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(raw);
  if (!m || Number(m[2]) > 65535) return [null, `LEDGER_ADDR (${raw}) is not host:port, e.g. 127.0.0.1:8080`];
  return [{ host: m[1].replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2]) }, null];
}

async function main() {
  const problems = [];
  let pilot;
  try {
    pilot = instrument(pool, { service: 'node-ledger', env: process.env }); // poolpilot 2/3
  } catch (err) {
    problems.push(...(err.problems || [err.message]));
  }
  const [faultSettings, faultProblems] = parseFaults(process.env);
  const [addr, addrProblem] = listenAddr(process.env);
  problems.push(...faultProblems, ...(addrProblem ? [addrProblem] : []));
  if (problems.length) fail(2, 'invalid configuration: ' + problems.join('; '));

  try {
    await migrate(pool);
  } catch (err) {
    fail(1, 'cannot prepare the database: ' + pilot.redact(err.message));
  }
  const app = express();
  app.use(pilot.express()); // poolpilot 3/3: request stats, /healthz, /metrics, PUT /admin/pool
  app.use('/v1', faults(faultSettings, pool), express.json({ limit: '1mb' }), routes(pool));
  app.use((req, res) => res.status(404).json({ error: `no route ${req.method} ${req.path}` }));
  app.use(errorHandler((s) => pilot.redact(s)));

  const server = app.listen(addr.port, addr.host);
  server.on('error', (err) => fail(1, `cannot listen on ${addr.host}:${addr.port}: ${err.message}`));
  server.on('listening', () => {
    const a = server.address();
    if (!['127.0.0.1', '::1', 'localhost'].includes(addr.host)) {
      console.error(`WARNING: node-ledger listens on ${addr.host}: PUT /admin/pool is reachable from the network`);
    }
    console.log(`listening addr=${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
  });
  const stop = () => {
    server.close(async () => {
      await pilot.close();
      await pool.end();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
