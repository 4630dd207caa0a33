// The seed's server/config/database-pool.ts (PHASE1_EXECUTION_READINESS.md,
// "Option B"), verbatim: it has no type annotation, so it is JavaScript too.
// Its parseInt is lenient ("30s" reads as 30 ms, "200abc" as 200); the
// adapter's instrument(pool, { env }) re-reads DB_POOL_* strictly at start
// and refuses to run on a bad value (see server/index.js).

export const getDatabasePoolConfig = () => ({
  max: parseInt(process.env.DB_POOL_MAX || '200', 10),
  min: parseInt(process.env.DB_POOL_MIN || '20', 10),
  idleTimeoutMillis: parseInt(process.env.DB_POOL_IDLE_TIMEOUT || '30000', 10),
  connectionTimeoutMillis: parseInt(process.env.DB_POOL_CONNECTION_TIMEOUT || '2000', 10),
});
