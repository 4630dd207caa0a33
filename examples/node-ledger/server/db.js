// The seed's server/db.ts after "Option B" (PHASE1_EXECUTION_READINESS.md),
// as literally as JavaScript allows: a Neon serverless Pool for a Neon
// connection string, node-postgres' Pool otherwise, both configured by
// getDatabasePoolConfig().

import { Pool as PgPool } from 'pg';
import { Pool as NeonPool, neonConfig } from '@neondatabase/serverless';
import ws from 'ws';
import { getDatabasePoolConfig } from './config/database-pool.js';

const connectionString = process.env.DATABASE_URL;

// The seed does not show it; a Neon host name ends in .neon.tech.
export const isNeonConnectionString = (url) => {
  try {
    return new URL(url).hostname.endsWith('.neon.tech');
  } catch {
    return false;
  }
};

export const pool = (() => {
  const poolConfig = {
    connectionString,
    ...getDatabasePoolConfig(),
  };

  if (isNeonConnectionString(connectionString)) {
    neonConfig.webSocketConstructor = ws;
    return new NeonPool(poolConfig);
  }
  return new PgPool(poolConfig);
})();
