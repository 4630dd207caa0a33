// Fault injection for drills (like ledgerd's, docs/ledgerd.md), from the
// environment so that a run can be shown to roll back:
//   LEDGER_FAULT_ERROR_RATE      0..1: share of /v1 requests answered 500
//   LEDGER_FAULT_WHEN_MAX_ABOVE  N: inject only while the pool's max is above N
//                                (a change to a bigger pool "breaks" the service;
//                                rolling back to N or less heals it)

/** parseFaults reads the fault settings; returns [settings, problems]. */
export function parseFaults(env) {
  const problems = [];
  const out = { errorRate: 0, whenMaxAbove: null };
  const rate = (env.LEDGER_FAULT_ERROR_RATE || '').trim();
  if (rate !== '') {
    const v = Number(rate);
    if (!/^\d*\.?\d+$/.test(rate) || !(v >= 0 && v <= 1)) problems.push(`LEDGER_FAULT_ERROR_RATE (${rate}) must be a number from 0 to 1`);
    else out.errorRate = v;
  }
  const above = (env.LEDGER_FAULT_WHEN_MAX_ABOVE || '').trim();
  if (above !== '') {
    if (!/^\d+$/.test(above)) problems.push(`LEDGER_FAULT_WHEN_MAX_ABOVE (${above}) must be a whole number of connections`);
    else out.whenMaxAbove = Number(above);
  }
  return [out, problems];
}

/** faults is the Express middleware injecting 500s into /v1 requests. */
export function faults(settings, pool) {
  let n = 0;
  return (req, res, next) => {
    const armed = settings.errorRate > 0 && (settings.whenMaxAbove === null || pool.options.max > settings.whenMaxAbove);
    // Deterministic spread: every k-th request for a rate of 1/k.
    if (armed && Math.floor(++n * settings.errorRate) !== Math.floor((n - 1) * settings.errorRate)) {
      res.set('X-Ledgerd-Fault', 'injected');
      return res.status(500).json({ error: 'injected fault (LEDGER_FAULT_ERROR_RATE)', fault: true });
    }
    next();
  };
}
