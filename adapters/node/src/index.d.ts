// Type declarations of @poolpilot/pg (hand-written; the code is plain ESM JavaScript).

import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where a setting came from. */
export type Provenance = 'env' | 'default' | 'admin' | 'detected';

/** The result of parsePoolEnv: the effective configuration. Durations in milliseconds. */
export interface PoolEnvConfig {
  databaseURL: string;
  max: number;
  min: number;
  idleTimeoutMillis: number;
  connectionTimeoutMillis: number;
  maxLifetimeMillis: number;
  healthCheckPeriodMillis: number;
  /** "" (direct), "transaction" or "session". */
  pooler: '' | 'transaction' | 'session';
  /** Keyed by the JSON names: max, min, idle_timeout_ms, connection_timeout_ms, max_lifetime_ms, health_check_period_ms, pooler. */
  source: Record<string, Provenance>;
  /** The same values as pg.Pool options. */
  pg: { max: number; min: number; idleTimeoutMillis: number; connectionTimeoutMillis: number; maxLifetimeSeconds: number };
}

/** Every problem of a configuration; message "invalid pool configuration: a; b; …". */
export class PoolConfigError extends Error {
  problems: string[];
}

/** The pool cannot be resized now: it has ended (409). */
export class ConflictError extends Error {}

/** Reads DATABASE_URL and DB_POOL_* strictly (an empty variable is unset); throws PoolConfigError naming every problem. */
export function parsePoolEnv(env?: Record<string, string | undefined>): PoolEnvConfig;
/** pg.Pool options of a parsed configuration. */
export function pgOptions(cfg: PoolEnvConfig): PoolEnvConfig['pg'];
/** Checks a max/min pair as PUT /admin/pool does; throws PoolConfigError. */
export function validateSize(max: number, min: number): void;
/** Plain milliseconds ("30000") or a Go duration ("30s"); returns nanoseconds. */
export function parseMillisOrDuration(raw: string): number;
/** Replaces passwords (URL userinfo, password=…, and the literal secrets) by "xxxxx". */
export function redact(text: string, secrets?: string[]): string;
/** Parses a PUT /admin/pool body; throws with the reference's 400 message. */
export function parseAdminBody(body: string): { max?: number; min?: number };

export const HEALTH_SCHEMA: '1.0';
export const DEFAULTS: Readonly<{ max: 200; min: 20; idleTimeoutMillis: 30000; connectionTimeoutMillis: 2000; maxLifetimeMillis: 3600000; healthCheckPeriodMillis: 60000 }>;
export const ENV: Readonly<Record<'databaseURL' | 'max' | 'min' | 'idle' | 'conn' | 'life' | 'health' | 'pooler', string>>;

/** Anything with pg-pool 3.x's API and internals: pg.Pool, or Neon's Pool. */
export interface PgPoolLike {
  options: object;
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  connect(): Promise<unknown>;
  query(...args: unknown[]): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  end(): Promise<void>;
}

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface InstrumentOptions {
  /** Shown as "service" in /healthz. */
  service?: string;
  /**
   * Environment to read DB_POOL_* from (strictly: throws PoolConfigError) and
   * apply to the pool's options; also where the admin token is read. Without
   * env or config the configuration is read from the pool's options.
   */
  env?: Record<string, string | undefined>;
  /** A configuration from parsePoolEnv, instead of env. */
  config?: PoolEnvConfig;
  /** The bearer token of PUT /admin/pool; "" disables it (404). Default: env[adminTokenEnv]. */
  adminToken?: string;
  /** Default "POOLPILOT_ADMIN_TOKEN". */
  adminTokenEnv?: string;
  /** Sliding window of the pool and request statistics; default 60000. */
  windowMs?: number;
  /** Bound of the database ping behind /healthz; default 1000. */
  pingTimeoutMs?: number;
  /** How long one ping result is reused; default and maximum 1000. */
  pingCacheTtlMs?: number;
  /** Keeper period when the configuration does not come from env/config; default 60000. */
  healthCheckPeriodMillis?: number;
  /** false: do not open connections up to min. */
  keeper?: boolean;
  /** false: do not read the server's connection limits (the "budget" of /healthz). */
  budget?: boolean;
  /** Count /healthz, /metrics and /admin/pool in the request statistics; default false. */
  countOwnRoutes?: boolean;
  /** More literal strings to scrub from every error shown or logged. */
  secrets?: string[];
  logger?: Logger;
  /** prom-client module to use (null: no /metrics); default: require('prom-client') when installed. */
  promClient?: unknown | null;
  /** A prom-client Registry for /metrics; default: a new one (never the global registry). */
  registry?: unknown;
  /** Monotonic clock in milliseconds (tests); default performance.now. */
  now?: () => number;
  /** Wall clock for "time" (tests); default () => new Date(). */
  clock?: () => Date;
}

export interface PoolConfigJSON {
  max: number;
  min: number;
  idle_timeout_ms: number;
  connection_timeout_ms: number;
  max_lifetime_ms: number;
  health_check_period_ms: number;
  pooler?: string;
  source: Record<string, Provenance>;
}

export interface PoolStats extends PoolConfigJSON {
  total: number; acquired: number; idle: number; constructing: number; waiting: number;
  oldest_wait_ms: number; utilization: number;
  wait_p50_ms: number; wait_p95_ms: number; wait_p99_ms: number; queue_p95_ms: number; dial_p95_ms: number;
  acquires: number; acquire_timeouts: number; acquire_cancels: number; server_refusals: number;
  opened: number; closed: number; closed_by_reason?: Record<string, number>;
  churn: number; window_seconds: number; resizes: number;
}

export interface RequestStats {
  total: number; errors: number; error_rate: number;
  latency_p50_ms: number; latency_p95_ms: number; latency_p99_ms: number; window_seconds: number;
}

export interface Budget {
  max_connections: number; superuser_reserved_connections: number; reserved_connections: number;
  other_connections: number; available: number; pool_max: number; ok: boolean; message?: string;
}

export interface HealthDocument {
  schema: '1.0';
  status: 'ok' | 'unavailable';
  error?: string;
  service?: string;
  time: string;
  pool: PoolStats;
  requests: RequestStats;
  budget?: Budget;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

export class Pilot {
  readonly pool: PgPoolLike;
  /** Effective configuration (PUT /admin/pool's answer). */
  config(): PoolConfigJSON;
  /** The "pool" object of /healthz; never waits. */
  stats(): PoolStats;
  /** The server's connection budget, once read; null before. */
  budget(): Budget | null;
  /** Live resize: grow admits waiters at once; shrink closes idle surplus now and busy surplus on release; min is kept open. */
  resize(max: number, min: number): Promise<PoolConfigJSON>;
  /** The /healthz document and its status code (200 or 503). */
  health(): Promise<{ code: 200 | 503; doc: HealthDocument }>;
  /** Express-style: measures requests (not the pool's own routes). */
  middleware(): Middleware;
  /** Express-style: serves /healthz, /metrics and PUT /admin/pool; next() otherwise. */
  routes(): Middleware;
  /** middleware() and routes() in one. */
  express(): Middleware;
  /** A plain node:http handler with the measurement and the routes; a throw or rejection answers 500. */
  wrap(handler: Handler): Handler;
  /** Guards a service's own admin handler with the admin token (404 without one, 401 wrong). */
  requireToken<H extends (...args: any[]) => unknown>(handler: H): Middleware;
  handleHealth(req: IncomingMessage, res: ServerResponse): Promise<void>;
  handleAdmin(req: IncomingMessage, res: ServerResponse): Promise<void>;
  handleMetrics(req: IncomingMessage, res: ServerResponse): Promise<void>;
  redact(text: string): string;
  /** Stops the keeper and the monitor connection; ending the pool is the caller's. */
  close(): Promise<void>;
}

/** Measures a pg.Pool and gives it /healthz, /metrics and PUT /admin/pool. Throws PoolConfigError on a bad env. */
export function instrument(pool: PgPoolLike, options?: InstrumentOptions): Pilot;
