// The database check behind /healthz: at most one ping at a time, its
// result reused for up to ttl and refreshed in the background once it is
// half that old (poolpilot's Go httpapi does the same), and a ping that never
// queues behind a full pool: an idle pool client when there is one, else a
// dedicated monitor connection ("<application_name>-monitor").

const LIMITS_SQL = `select current_setting('server_version'),
  current_setting('max_connections')::int,
  current_setting('superuser_reserved_connections')::int,
  coalesce(current_setting('reserved_connections', true), '0')::int,
  (select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid())::int`;

export class PingCache {
  constructor(pinger, { ttlMs, now }) {
    this.pinger = pinger;
    this.ttl = ttlMs;
    this.now = now;
    this.at = -1; // when the cached result was taken; -1: none
    this.err = null;
    this.inflight = null;
  }

  /** check resolves to null (the database answered) or the error. */
  async check() {
    const now = this.now();
    const age = now - this.at;
    if (this.at >= 0 && age < this.ttl && age >= 0) {
      if (age >= this.ttl / 2 && !this.inflight) this.start();
      return this.err;
    }
    return this.inflight || this.start();
  }

  start() {
    const p = this.pinger().then(
      () => null,
      (err) => err,
    ).then((err) => {
      this.at = this.now();
      this.err = err;
      this.inflight = null;
      return err;
    });
    this.inflight = p;
    return p;
  }
}

/** withTimeout rejects when p has not settled after ms. */
export function withTimeout(p, ms, what) {
  let tid;
  const t = new Promise((_, reject) => {
    tid = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(tid));
}

/** appNameOf returns the application_name a pool's connections use. */
export function appNameOf(options) {
  if (options.application_name) return options.application_name;
  const cs = options.connectionString;
  if (typeof cs === 'string' && cs.includes('://')) {
    try {
      const v = new URL(cs).searchParams.get('application_name');
      if (v) return v;
    } catch {
      // not a URL
    }
  }
  return process.env.PGAPPNAME || '';
}

/** Monitor is one spare connection for health checks at full utilisation. */
export class Monitor {
  constructor(pool, timeoutMs) {
    this.pool = pool;
    this.timeoutMs = timeoutMs;
    this.client = null;
    this.queue = Promise.resolve();
  }

  clientOptions() {
    const o = this.pool.options;
    const app = `${appNameOf(o) || 'poolpilot'}-monitor`;
    const opts = { ...o, password: o.password, application_name: app };
    if (typeof o.connectionString === 'string' && o.connectionString.includes('://')) {
      try {
        const u = new URL(o.connectionString);
        u.searchParams.set('application_name', app);
        opts.connectionString = u.toString();
      } catch {
        // keep it as it is
      }
    }
    delete opts.max;
    delete opts.min;
    return opts;
  }

  /** ping runs "select 1" on the monitor connection, one at a time. */
  ping() {
    const run = this.queue.then(() => this.pingNow());
    this.queue = run.catch(() => {});
    return run;
  }

  async pingNow() {
    try {
      if (!this.client) {
        const c = new this.pool.Client(this.clientOptions());
        c.on('error', () => {
          if (this.client === c) this.client = null;
        });
        this.client = c;
        await withTimeout(c.connect(), this.timeoutMs, 'connect monitor');
      }
      await withTimeout(this.client.query('select 1'), this.timeoutMs, 'ping');
    } catch (err) {
      this.drop();
      throw err;
    }
  }

  drop() {
    const c = this.client;
    this.client = null;
    if (c) c.end().catch(() => {});
  }

  close() {
    return this.queue.then(() => this.drop());
  }
}

/** readLimits reads the server's connection limits over a client. */
export async function readLimits(client) {
  const r = await client.query({ text: LIMITS_SQL, rowMode: 'array' });
  const [version, max, su, reserved, other] = r.rows[0];
  return { server_version: version, max_connections: max, superuser_reserved_connections: su, reserved_connections: reserved, other_connections: other };
}

/** budgetOf compares a pool max with what the server can serve (as pgpool.ServerLimits.Budget). */
export function budgetOf(l, poolMax, pooler) {
  const available = l.max_connections - l.superuser_reserved_connections - l.reserved_connections - l.other_connections;
  const b = {
    max_connections: l.max_connections,
    superuser_reserved_connections: l.superuser_reserved_connections,
    reserved_connections: l.reserved_connections,
    other_connections: l.other_connections,
    available,
    pool_max: poolMax,
    ok: poolMax <= available,
  };
  let reservedText = `superuser_reserved ${l.superuser_reserved_connections}`;
  if (l.reserved_connections > 0) reservedText += ` − reserved ${l.reserved_connections}`;
  const rest = `max_connections ${l.max_connections} − ${reservedText} − ${l.other_connections} other connections = ${available}`;
  if (pooler === 'transaction') {
    b.ok = true;
    b.message = `behind a transaction pooler: the pool's ${poolMax} connections go to the pooler; the server has ${rest} for the pooler's own pool`;
  } else if (!b.ok) {
    b.message = `DB_POOL_MAX ${poolMax} exceeds what the server can serve: ${rest}`;
  } else {
    b.message = `DB_POOL_MAX ${poolMax} fits: ${rest}`;
  }
  return b;
}
