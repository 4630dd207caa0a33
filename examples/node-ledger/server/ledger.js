// The ledger: a multi-tenant double-entry book (the seed's accounting
// service in miniature), with the HTTP API of poolpilot's Go reference
// service ledgerd (docs/ledgerd.md), so that `poolpilot run` drives either.

import express from 'express';

const ID = /^[a-z0-9_-]{1,64}$/;
const MAX_AMOUNT = 1e15;

const MIGRATION = `
create schema if not exists node_ledger;
create table if not exists node_ledger.tenants (
  id bigserial primary key, name text not null unique check (name ~ '^[a-z0-9_-]{1,64}$'));
create table if not exists node_ledger.accounts (
  id bigserial primary key, tenant_id bigint not null references node_ledger.tenants (id),
  name text not null check (name ~ '^[a-z0-9_-]{1,64}$'), unique (tenant_id, name), unique (tenant_id, id));
create table if not exists node_ledger.entries (
  id bigserial primary key, tenant_id bigint not null references node_ledger.tenants (id),
  description text not null, created_at timestamptz not null default now(), unique (tenant_id, id));
create table if not exists node_ledger.entry_lines (
  id bigserial primary key, entry_id bigint not null, line_no int not null, tenant_id bigint not null,
  account_id bigint not null, amount bigint not null check (amount <> 0), unique (entry_id, line_no),
  foreign key (tenant_id, entry_id) references node_ledger.entries (tenant_id, id),
  foreign key (tenant_id, account_id) references node_ledger.accounts (tenant_id, id));
create index if not exists entry_lines_account on node_ledger.entry_lines (tenant_id, account_id) include (amount, entry_id);
`;

/** migrate creates the schema once, under an advisory lock (several instances start together). */
export async function migrate(pool) {
  const c = await pool.connect();
  try {
    await c.query("select pg_advisory_lock(hashtext('node_ledger_migrate'))");
    await c.query(MIGRATION);
  } finally {
    await c.query("select pg_advisory_unlock(hashtext('node_ledger_migrate'))").catch(() => {});
    c.release();
  }
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** validate checks an entry as ledgerd does: 400 for malformed input, 422 for an accounting rule. */
export function validate(tenant, body) {
  if (!ID.test(tenant)) throw new HttpError(400, `invalid tenant id ${JSON.stringify(tenant)}: want [a-z0-9_-]{1,64}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body must be a JSON object');
  for (const k of Object.keys(body)) if (k !== 'description' && k !== 'lines') throw new HttpError(400, `unknown field ${JSON.stringify(k)}`);
  const description = body.description ?? '';
  if (typeof description !== 'string') throw new HttpError(400, 'description must be a string');
  if (Buffer.byteLength(description) > 500) throw new HttpError(400, 'description is longer than 500 bytes');
  if (!Array.isArray(body.lines)) throw new HttpError(400, 'lines must be an array');
  let sum = 0n;
  for (const l of body.lines) {
    if (typeof l !== 'object' || l === null || !ID.test(l.account ?? '')) throw new HttpError(400, 'each line needs an account id [a-z0-9_-]{1,64}');
    if (!Number.isSafeInteger(l.amount)) throw new HttpError(400, 'amount must be an integer (minor units)');
    if (l.amount === 0 || Math.abs(l.amount) > MAX_AMOUNT) throw new HttpError(422, `amount ${l.amount} must be non-zero and at most 10^15 in size`);
    sum += BigInt(l.amount);
  }
  if (body.lines.length < 2 || body.lines.length > 100) throw new HttpError(422, `an entry has 2 to 100 lines, not ${body.lines.length}`);
  if (sum !== 0n) throw new HttpError(422, `entry does not balance: lines sum to ${sum}`);
  return { description, lines: body.lines.map((l) => ({ account: l.account, amount: l.amount })) };
}

async function postEntry(pool, tenant, entry) {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const t = await c.query('insert into node_ledger.tenants (name) values ($1) on conflict (name) do update set name = excluded.name returning id', [tenant]);
    const tid = t.rows[0].id;
    const names = [...new Set(entry.lines.map((l) => l.account))].sort();
    const a = await c.query(`insert into node_ledger.accounts (tenant_id, name) select $1, unnest($2::text[])
      on conflict (tenant_id, name) do update set name = excluded.name returning id, name`, [tid, names]);
    const ids = new Map(a.rows.map((r) => [r.name, r.id]));
    const e = await c.query('insert into node_ledger.entries (tenant_id, description) values ($1, $2) returning id, created_at', [tid, entry.description]);
    const eid = e.rows[0].id;
    await c.query(`insert into node_ledger.entry_lines (entry_id, line_no, tenant_id, account_id, amount)
      select $1, n, $2, unnest_acc, unnest_amt from unnest($3::bigint[], $4::bigint[]) with ordinality as u(unnest_acc, unnest_amt, n)`,
    [eid, tid, entry.lines.map((l) => ids.get(l.account)), entry.lines.map((l) => l.amount)]);
    await c.query('commit');
    return { id: Number(eid), tenant, description: entry.description, lines: entry.lines, created_at: e.rows[0].created_at };
  } catch (err) {
    await c.query('rollback').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

const INTEGRITY_SQL = `with
  unbalanced as (select e.id from node_ledger.entries e left join node_ledger.entry_lines l on l.entry_id = e.id
                 group by e.id having coalesce(sum(l.amount), 0) <> 0 or count(l.id) < 2 order by e.id limit 1000),
  imbalances as (select t.name as tenant, sum(l.amount)::int8 as total from node_ledger.entry_lines l
                 join node_ledger.tenants t on t.id = l.tenant_id group by t.name having sum(l.amount) <> 0 order by t.name limit 1000),
  cross_tenant as (select l.id from node_ledger.entry_lines l
                   left join node_ledger.entries e on e.id = l.entry_id left join node_ledger.accounts a on a.id = l.account_id
                   where e.tenant_id is distinct from l.tenant_id or a.tenant_id is distinct from l.tenant_id order by l.id limit 1000)
select (select count(*) from node_ledger.entries)::int8 as entries, (select count(*) from node_ledger.tenants)::int8 as tenants,
  coalesce((select json_agg(id) from unbalanced), '[]') as unbalanced,
  coalesce((select json_agg(json_build_object('tenant', tenant, 'total', total)) from imbalances), '[]') as imbalances,
  coalesce((select json_agg(id) from cross_tenant), '[]') as cross_tenant`;

/** routes returns the /v1 router. */
export function routes(pool) {
  const r = express.Router();
  r.post('/tenants/:tenant/entries', async (req, res) => {
    const entry = validate(req.params.tenant, req.body);
    res.status(201).json(await postEntry(pool, req.params.tenant, entry));
  });
  r.get('/tenants/:tenant/accounts/:account/balance', async (req, res) => {
    const { tenant, account } = req.params;
    if (!ID.test(tenant) || !ID.test(account)) throw new HttpError(400, 'invalid tenant or account id: want [a-z0-9_-]{1,64}');
    const { rows } = await pool.query(`select coalesce(sum(l.amount), 0)::int8 as balance, count(distinct l.entry_id)::int8 as entries
      from node_ledger.accounts a join node_ledger.tenants t on t.id = a.tenant_id
      left join node_ledger.entry_lines l on l.tenant_id = a.tenant_id and l.account_id = a.id
      where t.name = $1 and a.name = $2 group by a.id`, [tenant, account]);
    if (rows.length === 0) throw new HttpError(404, `tenant ${tenant} has no account ${account}`);
    res.json({ tenant, account, balance: Number(rows[0].balance), entries: Number(rows[0].entries) });
  });
  r.get('/tenants/:tenant/trial-balance', async (req, res) => {
    const { tenant } = req.params;
    if (!ID.test(tenant)) throw new HttpError(400, 'invalid tenant id: want [a-z0-9_-]{1,64}');
    const { rows } = await pool.query(`select a.name as account, coalesce(sum(l.amount), 0)::int8 as balance
      from node_ledger.accounts a join node_ledger.tenants t on t.id = a.tenant_id
      left join node_ledger.entry_lines l on l.tenant_id = a.tenant_id and l.account_id = a.id
      where t.name = $1 group by a.name order by a.name`, [tenant]);
    const accounts = rows.map((x) => ({ account: x.account, balance: Number(x.balance) }));
    res.json({ tenant, accounts, total: accounts.reduce((s, x) => s + x.balance, 0) });
  });
  r.get('/integrity', async (req, res) => {
    const c = await pool.connect();
    try {
      await c.query('begin isolation level repeatable read read only');
      const { rows: [x] } = await c.query(INTEGRITY_SQL);
      await c.query('commit');
      const ok = x.unbalanced.length === 0 && x.imbalances.length === 0 && x.cross_tenant.length === 0;
      const doc = { ok, checked_entries: Number(x.entries), checked_tenants: Number(x.tenants) };
      if (!ok) Object.assign(doc, { unbalanced_entries: x.unbalanced, tenant_imbalances: x.imbalances.map((i) => ({ tenant: i.tenant, total: Number(i.total) })), cross_tenant_lines: x.cross_tenant });
      res.status(ok ? 200 : 500).json(doc);
    } catch (err) {
      await c.query('rollback').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  });
  return r;
}

/** errorHandler answers every error as JSON {"error":…}; a database error is a 500. */
export function errorHandler(redact) {
  // eslint-disable-next-line no-unused-vars
  return (err, req, res, next) => {
    let status = err.status || err.statusCode || 500;
    let msg = err.message;
    if (err.type === 'entity.too.large') msg = 'body over 1 MiB';
    else if (err.type === 'entity.parse.failed') msg = 'malformed JSON';
    if (status >= 500) {
      status = 500;
      msg = 'internal error: ' + redact(String(err.message));
      console.error(JSON.stringify({ level: 'error', msg: 'request failed', path: req.path, err: msg }));
    }
    if (!res.headersSent) res.status(status).json({ error: msg });
  };
}

export { HttpError };
