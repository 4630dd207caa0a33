// The DB_POOL_* parsing: the same rules and wording as the Go library
// (pgpool/config_test.go's TestLoadConfigBadInputs, case for case).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePoolEnv, PoolConfigError, validateSize, parseMillisOrDuration } from '../src/index.js';

const goodURL = 'postgres://app:s3cr3t-pw@127.0.0.1:5432/ledger';

test('defaults are the seed\'s, each with provenance "default"', () => {
  const cfg = parsePoolEnv({ DATABASE_URL: goodURL });
  assert.equal(cfg.max, 200);
  assert.equal(cfg.min, 20);
  assert.equal(cfg.idleTimeoutMillis, 30000);
  assert.equal(cfg.connectionTimeoutMillis, 2000);
  assert.equal(cfg.maxLifetimeMillis, 3600000);
  assert.equal(cfg.healthCheckPeriodMillis, 60000);
  assert.deepEqual(cfg.pg, { max: 200, min: 20, idleTimeoutMillis: 30000, connectionTimeoutMillis: 2000, maxLifetimeSeconds: 3600 });
  for (const v of Object.values(cfg.source)) assert.equal(v, 'default');
});

test('set values win, with provenance "env"; milliseconds and Go durations', () => {
  const cfg = parsePoolEnv({
    DATABASE_URL: goodURL, DB_POOL_MAX: ' 50 ', DB_POOL_MIN: '5', DB_POOL_IDLE_TIMEOUT: '1m30s',
    DB_POOL_CONNECTION_TIMEOUT: '2500', DB_POOL_MAX_LIFETIME: '2h', DB_POOL_HEALTH_CHECK_PERIOD: '1.5s', DB_POOL_POOLER: 'session',
  });
  assert.equal(cfg.max, 50);
  assert.equal(cfg.min, 5);
  assert.equal(cfg.idleTimeoutMillis, 90000);
  assert.equal(cfg.connectionTimeoutMillis, 2500);
  assert.equal(cfg.maxLifetimeMillis, 7200000);
  assert.equal(cfg.healthCheckPeriodMillis, 1500);
  assert.equal(cfg.pooler, 'session');
  for (const k of ['max', 'min', 'idle_timeout_ms', 'connection_timeout_ms', 'max_lifetime_ms', 'health_check_period_ms', 'pooler']) {
    assert.equal(cfg.source[k], 'env', k);
  }
});

test('a Neon pooled host or port 6432 is detected as a transaction pooler', () => {
  for (const u of ['postgres://u:p@ep-cool-123-pooler.eu-central-1.aws.neon.tech/db', 'postgres://u@127.0.0.1:6432/db']) {
    const cfg = parsePoolEnv({ DATABASE_URL: u });
    assert.equal(cfg.pooler, 'transaction', u);
    assert.equal(cfg.source.pooler, 'detected', u);
  }
  assert.equal(parsePoolEnv({ DATABASE_URL: goodURL }).pooler, '');
});

const cases = [
  ['empty url', { DATABASE_URL: '' }, ['DATABASE_URL is empty']],
  ['blank url', { DATABASE_URL: '   ' }, ['DATABASE_URL is empty']],
  ['bad scheme', { DATABASE_URL: 'mysql://u:hunter2@h/db' }, ['DATABASE_URL (mysql://u:xxxxx@h/db) has scheme "mysql"']],
  ['unparsable url', { DATABASE_URL: 'postgres://u:hunter2@h:notaport/db' }, ['DATABASE_URL (postgres://u:xxxxx@h:notaport/db)']],
  ['bad kv dsn', { DATABASE_URL: 'host=h password=hunter2 port=abc' }, ['DATABASE_URL (host=h password=xxxxx port=abc) cannot be parsed']],
  ['max not a number', { DB_POOL_MAX: 'abc' }, ['DB_POOL_MAX (abc) is not a whole number']],
  ['max float', { DB_POOL_MAX: '20.5' }, ['DB_POOL_MAX (20.5) is not a whole number']],
  ['max trailing garbage (parseInt would take 200)', { DB_POOL_MAX: '200abc' }, ['DB_POOL_MAX (200abc) is not a whole number']],
  ['max negative', { DB_POOL_MAX: '-5' }, ['DB_POOL_MAX (-5) must not be negative']],
  ['max zero', { DB_POOL_MAX: '0', DB_POOL_MIN: '0' }, ['DB_POOL_MAX (0) must be at least 1']],
  ['max absurd', { DB_POOL_MAX: '20000' }, ['DB_POOL_MAX (20000) is absurd: at most 10000']],
  ['max overflow', { DB_POOL_MAX: '99999999999999999999999' }, ['DB_POOL_MAX (99999999999999999999999) is out of range']],
  ['max blank', { DB_POOL_MAX: '  ' }, ['DB_POOL_MAX ("  ") is not a whole number']],
  ['min not a number', { DB_POOL_MIN: 'ten' }, ['DB_POOL_MIN (ten) is not a whole number']],
  ['min negative', { DB_POOL_MIN: '-1' }, ['DB_POOL_MIN (-1) must not be negative']],
  ['min over max', { DB_POOL_MIN: '300' }, ['DB_POOL_MIN (300) must not exceed DB_POOL_MAX (200)']],
  ['min over explicit max', { DB_POOL_MAX: '10', DB_POOL_MIN: '11' }, ['DB_POOL_MIN (11) must not exceed DB_POOL_MAX (10)']],
  ['idle not a duration', { DB_POOL_IDLE_TIMEOUT: 'soon' }, ['DB_POOL_IDLE_TIMEOUT (soon) is not a duration']],
  ['idle negative ms', { DB_POOL_IDLE_TIMEOUT: '-1000' }, ['DB_POOL_IDLE_TIMEOUT (-1000ms) must not be negative']],
  ['idle negative dur', { DB_POOL_IDLE_TIMEOUT: '-30s' }, ['DB_POOL_IDLE_TIMEOUT (-30000ms) must not be negative']],
  ['idle zero', { DB_POOL_IDLE_TIMEOUT: '0' }, ['DB_POOL_IDLE_TIMEOUT (0) must be positive']],
  ['idle absurdly short', { DB_POOL_IDLE_TIMEOUT: '5' }, ['DB_POOL_IDLE_TIMEOUT (5ms) is absurdly short']],
  ['idle >= lifetime', { DB_POOL_IDLE_TIMEOUT: '2h' }, ['DB_POOL_IDLE_TIMEOUT (7200000ms) must be shorter than DB_POOL_MAX_LIFETIME (3600000ms)']],
  ['idle == lifetime', { DB_POOL_IDLE_TIMEOUT: '60000', DB_POOL_MAX_LIFETIME: '1m' }, ['DB_POOL_IDLE_TIMEOUT (60000ms) must be shorter than DB_POOL_MAX_LIFETIME (60000ms)']],
  ['conn timeout zero', { DB_POOL_CONNECTION_TIMEOUT: '0s' }, ['DB_POOL_CONNECTION_TIMEOUT (0) must be positive']],
  ['conn timeout absurd', { DB_POOL_CONNECTION_TIMEOUT: '1h' }, ['DB_POOL_CONNECTION_TIMEOUT (3600000ms) is absurdly long']],
  ['conn timeout unit typo', { DB_POOL_CONNECTION_TIMEOUT: '2 sec' }, ['DB_POOL_CONNECTION_TIMEOUT (2 sec) is not a duration']],
  ['conn timeout ms overflow', { DB_POOL_CONNECTION_TIMEOUT: '99999999999999999' }, ['DB_POOL_CONNECTION_TIMEOUT (99999999999999999) is out of range']],
  ['conn timeout sub-millisecond', { DB_POOL_CONNECTION_TIMEOUT: '1500us' }, ['DB_POOL_CONNECTION_TIMEOUT (1.5ms) is absurdly short: at least 10ms']],
  ['lifetime absurd', { DB_POOL_MAX_LIFETIME: '8760h' }, ['DB_POOL_MAX_LIFETIME (31536000000ms) is absurdly long']],
  ['health zero', { DB_POOL_HEALTH_CHECK_PERIOD: '0' }, ['DB_POOL_HEALTH_CHECK_PERIOD (0) must be positive']],
  ['pooler unknown', { DB_POOL_POOLER: 'statement' }, ['DB_POOL_POOLER ("statement") must be "transaction", "session" or empty']],
  ['all at once', { DATABASE_URL: '', DB_POOL_MAX: 'x', DB_POOL_MIN: '-2', DB_POOL_IDLE_TIMEOUT: 'y' }, [
    'DATABASE_URL is empty', 'DB_POOL_MAX (x) is not a whole number', 'DB_POOL_MIN (-2) must not be negative',
    'DB_POOL_IDLE_TIMEOUT (y) is not a duration']],
];

for (const [name, env, want] of cases) {
  test(`refused: ${name}`, () => {
    let err;
    try {
      parsePoolEnv({ DATABASE_URL: goodURL, ...env });
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'parsePoolEnv accepted bad input');
    assert.ok(err instanceof PoolConfigError, `error ${err} is not a PoolConfigError`);
    assert.ok(err.message.startsWith('invalid pool configuration: '), err.message);
    for (const w of want) assert.ok(err.message.includes(w), `error ${JSON.stringify(err.message)}\nmissing ${JSON.stringify(w)}`);
    assert.equal(err.problems.length, want.length, `problems: ${JSON.stringify(err.problems)}`);
    for (const pw of ['s3cr3t-pw', 'hunter2']) assert.ok(!err.message.includes(pw), `error leaks the password: ${err.message}`);
  });
}

test('validateSize names the JSON fields, every problem at once', () => {
  assert.throws(() => validateSize(200, 300), { message: 'invalid pool configuration: min (300) must not exceed max (200)' });
  assert.throws(() => validateSize(0, -1), (e) => e.problems.length === 2 && e.problems[0].startsWith('max (0) must be at least 1') && e.problems[1].startsWith('min (-1) must not be negative'));
  assert.doesNotThrow(() => validateSize(10000, 0));
  assert.throws(() => validateSize(10001, 0), /max \(10001\) is absurd/);
});

test('parseMillisOrDuration reads milliseconds and Go durations (nanoseconds out)', () => {
  assert.equal(parseMillisOrDuration('30000'), 30000e6);
  assert.equal(parseMillisOrDuration('30s'), 30e9);
  assert.equal(parseMillisOrDuration('1m30s'), 90e9);
  assert.equal(parseMillisOrDuration('1.5h'), 5400e9);
  assert.equal(parseMillisOrDuration('250ms'), 250e6);
  assert.throws(() => parseMillisOrDuration('30 s'), /is not a duration/);
  assert.throws(() => parseMillisOrDuration('s'), /is not a duration/);
  assert.throws(() => parseMillisOrDuration(''), /is blank/);
});
