// The sliding windows with an injected clock: a value leaves after the
// window, percentiles are within the histogram's 1.6 % resolution.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Window, quantile, bucketOf, bucketHigh } from '../src/window.js';
import { Requests } from '../src/requests.js';

test('a request recorded 60 s ago has left the 60 s window', () => {
  let now = 1_000_000;
  const r = new Requests(60000, () => now);
  r.record(200, 5);
  r.record(500, 7);
  let s = r.stats();
  assert.equal(s.total, 2);
  assert.equal(s.errors, 1);
  assert.equal(s.error_rate, 0.5);
  now += 57000;
  assert.equal(r.stats().total, 2, 'still inside after 57 s');
  now += 3000;
  s = r.stats();
  assert.equal(s.total, 0, 'gone after 60 s');
  assert.equal(s.error_rate, 0);
  assert.equal(s.latency_p99_ms, 0);
});

test('percentiles are within 1.6 % of the recorded values', () => {
  const w = new Window(60000, ['x'], () => 0);
  for (let i = 1; i <= 1000; i++) w.record('x', i * 100); // 0.1 ms .. 100 ms
  const h = w.read().x;
  for (const [q, want] of [[0.5, 50], [0.95, 95], [0.99, 99]]) {
    const got = quantile(h, q);
    assert.ok(Math.abs(got - want) / want < 0.016, `p${q * 100} = ${got}, want ≈ ${want}`);
  }
  assert.equal(quantile(h, 0.5, 2000), 0, 'extra zeros count below the median');
});

test('bucket bounds are monotonic and contain their values', () => {
  let last = -1;
  for (const v of [0, 1, 63, 64, 65, 1000, 12345, 1e6, 3.6e9]) {
    const b = bucketOf(v);
    assert.ok(b >= last);
    assert.ok(bucketHigh(b) >= v, `${v} above its bucket's high ${bucketHigh(b)}`);
    last = b;
  }
});
