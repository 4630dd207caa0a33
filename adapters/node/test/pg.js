// An ephemeral PostgreSQL for the tests, as poolpilot's Go tests start one
// (internal/pgtest): initdb into a temporary directory, a free port on
// 127.0.0.1, trust authentication; as root, the server runs as the
// "postgres" system user (initdb and postgres refuse root).

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, chownSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function binDir() {
  try {
    const d = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(d, 'initdb'))) return d;
  } catch {
    // no pg_config
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const d = join(root, v, 'bin');
    if (existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres'))) return d;
  }
  throw new Error('PostgreSQL server binaries (initdb, postgres) not found: apt-get install postgresql');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function asUser(cmd, args) {
  if (process.getuid && process.getuid() === 0) return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--pdeathsig', 'SIGQUIT', cmd, ...args]];
  return [cmd, args];
}

function accepts(port) {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/** startPostgres starts a private cluster; settings become -c name=value. */
export async function startPostgres(settings = {}) {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'poolpilot-node-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  execFileSync('mkdir', ['-m', '700', data, sock]);
  if (process.getuid && process.getuid() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    for (const d of [dir, data, sock]) chownSync(d, uid, gid);
  }
  const [icmd, iargs] = asUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  execFileSync(icmd, iargs, { cwd: tmpdir(), env: { ...process.env, LC_ALL: 'C' }, stdio: 'pipe' });
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-k', sock, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
    '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  const [pcmd, pargs] = asUser(join(bin, 'postgres'), args);
  const proc = spawn(pcmd, pargs, { cwd: tmpdir(), stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let log = '';
  proc.stderr.on('data', (c) => { log += c; });
  let exited = false;
  proc.on('exit', () => { exited = true; });
  const deadline = Date.now() + 30000;
  for (;;) {
    if (exited) throw new Error('postgres exited during start: ' + log);
    if (await accepts(port) && /ready to accept connections/.test(log)) break;
    if (Date.now() > deadline) throw new Error('postgres did not start in 30 s: ' + log);
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    if (!exited) {
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGQUIT');
      await done;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { port, url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, log: () => log };
}
