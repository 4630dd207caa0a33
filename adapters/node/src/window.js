// A sliding window of log-linear histograms (HDR style: 64 linear
// sub-buckets per power of two, so a value is known to within 1.6 %), kept
// as a ring of 30 time slots, as poolpilot's Go library does. Values are
// microseconds; quantiles are returned in milliseconds.

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const MAX_SHIFT = 26; // up to 2^32 µs (about 72 minutes); larger values land in the last bucket
export const NUM_BUCKETS = (MAX_SHIFT + 2) * SUB;
export const SLOTS = 30;

export function bucketOf(us) {
  const v = Math.floor(us);
  if (v < SUB) return v < 0 ? 0 : v;
  const shift = Math.floor(Math.log2(v)) - SUB_BITS;
  if (shift > MAX_SHIFT) return NUM_BUCKETS - 1;
  return (shift + 1) * SUB + Math.floor(v / 2 ** shift) - SUB;
}

/** bucketHigh returns the highest value (µs) of bucket i. */
export function bucketHigh(i) {
  if (i < SUB) return i + 1;
  const shift = Math.floor(i / SUB) - 1;
  const mant = i % SUB;
  return (SUB + mant + 1) * 2 ** shift;
}

class Slot {
  constructor(names) {
    this.epoch = -1;
    this.hists = {};
    for (const n of names) this.hists[n] = { counts: new Uint32Array(NUM_BUCKETS), total: 0, lo: NUM_BUCKETS, hi: -1 };
    this.counters = {};
  }

  reset(epoch) {
    this.epoch = epoch;
    for (const h of Object.values(this.hists)) {
      if (h.total) h.counts.fill(0, h.lo, h.hi + 1);
      h.total = 0;
      h.lo = NUM_BUCKETS;
      h.hi = -1;
    }
    this.counters = {};
  }
}

/** Window keeps named histograms and counters over a sliding time window. */
export class Window {
  /**
   * @param {number} windowMs length of the window
   * @param {string[]} names histogram names
   * @param {() => number} now monotonic clock in milliseconds
   */
  constructor(windowMs, names, now) {
    this.windowMs = windowMs;
    this.slotMs = windowMs / SLOTS;
    this.now = now;
    this.names = names;
    this.slots = Array.from({ length: SLOTS }, () => new Slot(names));
  }

  slot() {
    const e = Math.floor(this.now() / this.slotMs);
    const s = this.slots[e % SLOTS];
    if (s.epoch !== e) s.reset(e);
    return s;
  }

  /** record adds a value (µs) to histogram name. */
  record(name, us) {
    const h = this.slot().hists[name];
    const b = bucketOf(us);
    h.counts[b]++;
    h.total++;
    if (b < h.lo) h.lo = b;
    if (b > h.hi) h.hi = b;
  }

  /** count adds n to counter name. */
  count(name, n = 1) {
    const c = this.slot().counters;
    c[name] = (c[name] || 0) + n;
  }

  /** read sums the slots inside the window. */
  read() {
    const e = Math.floor(this.now() / this.slotMs);
    const out = { counters: {} };
    for (const n of this.names) out[n] = { counts: new Float64Array(NUM_BUCKETS), total: 0 };
    for (const s of this.slots) {
      if (s.epoch < 0 || s.epoch <= e - SLOTS || s.epoch > e) continue;
      for (const n of this.names) {
        const h = s.hists[n];
        if (!h.total) continue;
        const dst = out[n];
        for (let i = h.lo; i <= h.hi; i++) dst.counts[i] += h.counts[i];
        dst.total += h.total;
      }
      for (const [k, v] of Object.entries(s.counters)) out.counters[k] = (out.counters[k] || 0) + v;
    }
    return out;
  }
}

/**
 * quantile returns the q-quantile (ms) of a read histogram, counting
 * extraZeros more values of 0; 0 when there is no value.
 */
export function quantile(h, q, extraZeros = 0) {
  const total = h.total + extraZeros;
  if (total === 0) return 0;
  const rank = Math.max(1, Math.floor(q * total + 0.5));
  if (rank <= extraZeros) return 0;
  let seen = extraZeros;
  for (let i = 0; i < NUM_BUCKETS; i++) {
    seen += h.counts[i];
    if (seen >= rank) return round3(bucketHigh(i) / 1000);
  }
  return 0;
}

export function round3(f) {
  return Math.round(f * 1000) / 1000;
}
